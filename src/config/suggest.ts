// "Did you mean …?" for a misspelt key: the known name closest by edit distance (Levenshtein), if it is close
// enough to be a typo rather than a different word.
export function closest(name: string, known: readonly string[]): string | undefined {
  const a = name.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(a, k.toLowerCase());
    if (!best || d < best.d) best = { name: k, d };
  }
  if (best && best.d <= Math.max(2, Math.ceil(name.length / 3))) return best.name;
  // A shortened name, even misspelt (`retension` for `retentionDays`), is a typo too.
  return known.find((k) => a.length >= 4 && distance(a, k.toLowerCase().slice(0, a.length)) <= 1);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
