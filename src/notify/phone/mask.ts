// Phone numbers in logs, on the timeline and in the console are masked the way Chinese services print them:
// 138****5678 (the first three and the last four digits of a mobile number).

/** 13800005678 → 138****5678; +8613800005678 → +86138****5678; short numbers keep only their last two digits. */
export function maskPhone(n: string): string {
  const d = n.replace(/[\s-]/g, '');
  if (!/^\+?\d+$/.test(d)) return '****';
  const cc = d.startsWith('+86') ? '+86' : d.startsWith('+') ? '+' : '';
  const num = d.slice(cc.length);
  if (num.length >= 11) return `${cc}${num.slice(0, 3)}****${num.slice(-4)}`;
  if (num.length >= 7) return `${cc}${num.slice(0, 2)}***${num.slice(-2)}`;
  return `${cc}****${num.slice(-2)}`;
}
