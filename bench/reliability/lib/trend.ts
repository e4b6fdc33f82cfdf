/** Least-squares trend of a series over time, for "no growth" verdicts of long runs. */

/** Slope of y over x (units of y per unit of x) by ordinary least squares; NaN with fewer than 2 distinct x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const ok = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (ok.length < 2) return Number.NaN;
  const mx = ok.reduce((s, [x]) => s + x, 0) / ok.length;
  const my = ok.reduce((s, [, y]) => s + y, 0) / ok.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of ok) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Slope per hour of a series whose x is in seconds. */
export function perHour(points: ReadonlyArray<readonly [number, number]>): number {
  return slope(points) * 3600;
}
