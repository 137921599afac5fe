// Where a run's tail came from, bin by bin (bench/profile-gateway.ts, PROFILE_TIMELINE=1): the
// open-loop latencies by intended send time next to what the gateway's probe saw in the same bin
// (requests the gateway answered in it, the slowest Produce round trip near it, every GC that was not a short scavenge —
// loop-probe.ts, BENCH_PROBE_TIMELINE) and the broker's GC pauses (broker-gc.ts). All times are
// epoch ms, so the three processes' clocks line up.
import { readFileSync } from 'node:fs';
import { parsePauses } from './broker-gc.ts';
import { percentiles } from './stats.ts';

/** what loop-probe.ts writes: [start epoch ms, ms] per answered request and per Produce, [start, ms, kind] per GC */
export interface ProbeTimeline {
  http: [number, number][];
  produce: [number, number][];
  gc: [number, number, number][];
}

/** the open-loop side: request i was due at t0 + i × intervalMs and took latMs[i] (Infinity = never answered) */
export interface LatencyTimeline {
  t0: number;
  intervalMs: number;
  latMs: Float64Array;
}

// perf_hooks' NODE_PERFORMANCE_GC_* kinds
const GC_KIND: Record<number, string> = { 1: 'scavenge', 2: 'minor-ms', 4: 'mark-compact', 8: 'incremental', 16: 'weak-cb' };

/** The `top` bins of `binMs` holding the most requests at or above the run's p99, worst first. */
export function worstBins(lat: LatencyTimeline, probe: ProbeTimeline, brokerGcLog: string | undefined, binMs = 100, top = 8): string[] {
  const n = lat.latMs.length;
  if (!n) return [];
  // the run's own p99 (same nearest rank as the bench); percentiles() sorts, so on a copy
  const p99 = percentiles(Float64Array.from(lat.latMs), [99]).p99!;
  const bins = Math.ceil((n * lat.intervalMs) / binMs) + 1;
  const tail = new Array<number>(bins).fill(0);
  const max = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const b = Math.floor((i * lat.intervalMs) / binMs);
    max[b] = Math.max(max[b]!, lat.latMs[i]!);
    if (lat.latMs[i]! >= p99) tail[b]!++;
  }
  let broker: [number, number][] = [];
  try {
    if (brokerGcLog) broker = parsePauses(readFileSync(brokerGcLog, 'utf8')).map(([end, ms]) => [end - ms, ms]);
  } catch {
    // no broker log: that column stays empty
  }
  // events that may have held the bin's requests: from half a bin before it to its end
  const near = <T extends number[]>(xs: readonly T[], b: number) => xs.filter((x) => x[0]! + x[1]! >= lat.t0 + b * binMs - binMs / 2 && x[0]! < lat.t0 + (b + 1) * binMs);
  const total = tail.reduce((a, b) => a + b, 0);
  const lines = [`p99 ${p99.toFixed(1)} ms: ${total} requests at or above it, in ${tail.filter((x) => x > 0).length} bins of ${binMs} ms; the worst:`];
  const order = [...tail.keys()].filter((b) => tail[b]! > 0).sort((a, b) => tail[b]! - tail[a]!).slice(0, top);
  for (const b of order) {
    const at = (t: number) => `${(t - lat.t0 - b * binMs).toFixed(0)}`;
    const answered = probe.http.filter(([t, ms]) => t + ms >= lat.t0 + b * binMs && t + ms < lat.t0 + (b + 1) * binMs).length;
    const slowest = near(probe.produce, b).reduce((m, p) => Math.max(m, p[1]), 0);
    const gcs = near(probe.gc, b).filter((g) => g[2] !== 1 || g[1] >= 3).map((g) => `${GC_KIND[g[2]] ?? g[2]} ${g[1].toFixed(1)} ms @${at(g[0])}`);
    const bgc = near(broker, b).map((g) => `${g[1].toFixed(1)} ms @${at(g[0])}`);
    lines.push(
      `  t=${((b * binMs) / 1000).toFixed(1)} s: ${tail[b]} in the tail, max ${max[b]!.toFixed(1)} ms | answered ${answered}, slowest produce ${slowest.toFixed(1)} ms` +
        ` | gateway GC: ${gcs.join(', ') || '—'} | broker GC: ${bgc.join(', ') || '—'}`,
    );
  }
  return lines;
}
