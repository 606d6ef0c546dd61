// Licence plates as a Chinese gate camera reads them (GA 36-2018): province character, issuing-authority
// letter, then five characters (petrol, blue) or six (new energy, green, starting D or F). I and O are never
// used after the authority letter, to keep them apart from 1 and 0.
import type { Rng } from './prng.js';

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** A plate of `province` (沪, 川, …); new energy with probability `greenShare`. */
export function randomPlate(rng: Rng, province: string, greenShare = 0.25): string {
  const authority = LETTERS[rng.int(12)]; // the big city authorities: A…M
  if (rng.chance(greenShare)) {
    let tail = rng.pick(['D', 'F']);
    for (let i = 0; i < 5; i++) tail += i === 0 && rng.chance(0.3) ? LETTERS[rng.int(LETTERS.length)] : DIGITS[rng.int(10)];
    return `${province}${authority}${tail}`;
  }
  let tail = '';
  for (let i = 0; i < 5; i++) tail += rng.chance(0.2) ? LETTERS[rng.int(LETTERS.length)] : DIGITS[rng.int(10)];
  return `${province}${authority}${tail}`;
}

/** The province most residents' plates carry (沪 in 春江小区, 川 in 桂花园); 沪 when nobody has a car. */
export function homeProvince(plates: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const p of plates) counts.set([...p][0], (counts.get([...p][0]) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? '沪';
}
