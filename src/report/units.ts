// Figures as people read them: the unit scaled to the value, three significant digits, never 90e+3.

function significant(value: number): string {
  if (value === 0) return "0";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}

function scaled(value: number, steps: readonly [number, string][]): string {
  const abs = Math.abs(value);
  const [factor, unit] = steps.find(([f], i) => abs >= f * 0.9995 || i === steps.length - 1)!;
  return `${significant(value / factor)} ${unit}`;
}

/** Microseconds as µs, ms or s. */
export function formatMicros(us: number): string {
  return scaled(us, [
    [1e6, "s"],
    [1e3, "ms"],
    [1, "µs"],
  ]);
}

/** Megabytes per second as KB/s, MB/s or GB/s. */
export function formatMBps(mbps: number): string {
  return scaled(mbps, [
    [1e3, "GB/s"],
    [1, "MB/s"],
    [1e-3, "KB/s"],
  ]);
}

/** A round scale maximum at or above `max` (1, 2, 2.5 or 5 × a power of ten), so ticks fall on readable values. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= max) return m * power;
  return 10 * power;
}
