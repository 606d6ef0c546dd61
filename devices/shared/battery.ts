// Battery voltage → percent. Vendors report volts; the canonical payload wants `batteryPct` (CONTRACT.md).
// A straight line between "empty" and "full" is crude for lithium cells (flat curve, then a cliff), but it is
// monotonic and honest about what we know; each kind documents its two end points and their source.

/** Linear percent of `volts` between `emptyV` (0 %) and `fullV` (100 %), clamped, to a whole percent. */
export function voltsToPercent(volts: number, emptyV: number, fullV: number): number {
  const pct = ((volts - emptyV) / (fullV - emptyV)) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)));
}
