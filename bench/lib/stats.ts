// Small statistics helpers shared by the load generators and the report.

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Percentiles (nearest-rank) of latency samples in ms; sorts the array in place. */
export function percentiles(samples: Float64Array, ps: readonly number[] = [50, 99, 99.9]): Record<string, number> {
  samples.sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    const rank = Math.ceil((p / 100) * samples.length);
    out[`p${p}`] = samples.length ? samples[Math.min(samples.length - 1, Math.max(0, rank - 1))]! : NaN;
  }
  out.max = samples.length ? samples[samples.length - 1]! : NaN;
  return out;
}

/** Pick the run whose `key` is the median (for 3 runs: the middle one), so its other fields stay consistent. */
export function medianRun<T>(runs: readonly T[], key: (r: T) => number): T | undefined {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}
