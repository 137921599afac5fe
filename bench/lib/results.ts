// Result shapes shared by every scenario (HTTP ones in the orchestrator, K_js and P in their own
// processes, which print them as JSON), and the median summary of repeated runs.
import type { Gate } from './kafka.ts';
import { summarizeLoop, type LoopStats, type LoopSummary } from './loop-stats.ts';
import type { BrokerGc } from './broker-gc.ts';
import type { Placement, ProcessWindow } from './proc.ts';
import { machineSpeedMs } from './speed.ts';
import { median } from './stats.ts';

/** the first half second of every open-loop run is sent but not measured (connections, JIT) */
export const OPEN_WARMUP_S = 0.5;

export interface LoadResult {
  mode: 'closed' | 'open';
  connections: number;
  /** target rate (open loop) */
  targetRate?: number;
  sent: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  /** completed 2xx per second over the run's wall time */
  rate: number;
  /** the span `rate` is computed over (open loop: the measured part) */
  wallMs: number;
  /** first request sent → last answer, warm-up included (for CPU %) */
  spanMs: number;
  /** ms; open loop: from the intended send time; closed loop: autocannon's */
  latency: { p50: number; p99: number; 'p99.9': number; max: number };
  /** open loop: how late requests left versus their intended time (ms) */
  lag?: { p50: number; p99: number };
  /** open loop: measured requests that found all connections busy and waited in the generator for one */
  queued?: number;
  /** CPU of this (load generator) process during the run, % of one core */
  loadgenCpuPct: number;
  statusCodes: Record<string, number>;
}

export interface Windows {
  warmupS: number;
  sweepS: number;
  measureS: number;
  openS: number;
  repeats: number;
  /** closed-loop connection counts to try */
  sweep: readonly number[];
  /** open-loop rates as fractions of the median closed-loop maximum */
  openFractions: readonly number[];
  /** connections the open-loop generator may use */
  openConnections: number;
  /** a run whose SUT core was busier than this (%) with other processes is run once more */
  noisePct: number;
}

export interface RunRecord {
  load: LoadResult;
  /** server CPU per completed request, µs */
  cpuUsPerReq: number;
  /** server CPU use during the run, % of one core */
  cpuPct: number;
  /** busy % of each core during the run (/proc/stat), to see foreign load on the box */
  coreBusyPct: number[];
  /** busy % of the SUT core not due to the SUT (other processes, interrupts) */
  otherOnSutPct: number;
  /** busy % of the load core not due to the broker and the load generator */
  otherOnLoadPct: number;
  rssMaxMB: number;
  /** CPU µs per thread name over the run (MainThread, V8Worker, libuv-worker, …) */
  threadCpuUs?: Record<string, number>;
  /** share of the SUT's CPU spent outside its main (JS) thread, % — on one core, time the event loop waited */
  offMainPct?: number;
  gate?: Gate;
  /** event loop, GC and memory inside the SUT over the run (Node SUTs started with the probe) */
  loop?: LoopStats;
  /** ms of the fixed calibration workload on the SUT core right before the run (lib/speed.ts; higher = slower machine) */
  calibMs?: number;
  /** the broker's GC pauses during the run (lib/broker-gc.ts): no produce is answered while one lasts */
  brokerGc?: BrokerGc;
}

export interface Summary {
  rate: number;
  /** open loop: the target rate (the median run's achieved `rate` should be within a few % of it) */
  targetRate?: number;
  cpuUsPerReq: number;
  /** server CPU, % of one core */
  cpuPct: number;
  otherOnSutPct: number;
  otherOnLoadPct: number;
  rssMaxMB: number;
  p50: number;
  p99: number;
  'p99.9': number;
  non2xx: number;
  errors: number;
  loadgenCpuPct: number;
  /** every run's gate ok (undefined when the scenario has no Kafka) */
  gateOk?: boolean;
  gatesOk?: number;
  gatesRun?: number;
  /** acked=appended per run */
  gates?: string;
  /** event-loop delay and GC pauses of the SUT (runs with the probe) */
  loop?: LoopSummary;
  /** median share of the SUT's CPU outside its main thread, % (GC helpers, compiler, thread pool) */
  offMainPct?: number;
  /** open loop: median % of the measured requests that found every connection busy and waited in the generator */
  waitedPct?: number;
  /** median calibration ms of the runs (lib/speed.ts: the machine's speed; higher = slower) */
  calibMs?: number;
  /** the longest broker GC pause in any of the runs, ms */
  brokerGcMaxMs?: number;
}

export interface OpenPoint {
  fraction: number;
  targetRate: number;
  runs: RunRecord[];
  median: Summary;
}

export interface ScenarioResult {
  id: string;
  label: string;
  size: number;
  status: 'ok' | 'failed';
  error?: string;
  sweep: RunRecord[];
  bestConnections: number;
  max: { runs: RunRecord[]; median: Summary } | null;
  open: OpenPoint[];
}

export function summarize(runs: readonly RunRecord[]): Summary {
  const gates = runs.map((r) => r.gate).filter((g): g is Gate => g !== undefined);
  const target = runs[0]?.load.targetRate;
  const loop = summarizeLoop(runs.map((r) => r.loop).filter((l): l is LoopStats => l !== undefined));
  return {
    rate: median(runs.map((r) => r.load.rate)),
    ...(target !== undefined ? { targetRate: target } : {}),
    cpuUsPerReq: median(runs.map((r) => r.cpuUsPerReq)),
    cpuPct: median(runs.map((r) => r.cpuPct)),
    otherOnSutPct: Math.max(...runs.map((r) => r.otherOnSutPct)),
    otherOnLoadPct: Math.max(...runs.map((r) => r.otherOnLoadPct)),
    rssMaxMB: median(runs.map((r) => r.rssMaxMB)),
    p50: median(runs.map((r) => r.load.latency.p50)),
    p99: median(runs.map((r) => r.load.latency.p99)),
    'p99.9': median(runs.map((r) => r.load.latency['p99.9'])),
    non2xx: runs.reduce((s, r) => s + r.load.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.load.errors, 0),
    loadgenCpuPct: Math.max(...runs.map((r) => r.load.loadgenCpuPct)),
    ...(gates.length
      ? { gateOk: gates.every((g) => g.ok), gatesOk: gates.filter((g) => g.ok).length, gatesRun: gates.length, gates: gates.map((g) => `${g.acked}=${g.appended}${g.ok ? '' : '!'}`).join(' ') }
      : {}),
    ...(loop ? { loop } : {}),
    ...(runs.some((r) => r.offMainPct !== undefined) ? { offMainPct: median(runs.map((r) => r.offMainPct ?? NaN)) } : {}),
    ...(runs.some((r) => r.calibMs !== undefined) ? { calibMs: median(runs.map((r) => r.calibMs ?? NaN)) } : {}),
    ...(runs.some((r) => r.brokerGc !== undefined) ? { brokerGcMaxMs: Math.max(...runs.map((r) => r.brokerGc?.maxMs ?? 0)) } : {}),
    ...(runs.some((r) => r.load.queued !== undefined) ? { waitedPct: median(runs.map((r) => (100 * (r.load.queued ?? 0)) / Math.max(1, r.load.ok2xx + r.load.non2xx + r.load.errors))) } : {}),
  };
}

export const describeRun = (r: RunRecord): string =>
  `${Math.round(r.load.rate)}/s c=${r.load.connections} cpu=${r.cpuUsPerReq.toFixed(1)}µs/req p50=${r.load.latency.p50.toFixed(2)} p99=${r.load.latency.p99.toFixed(2)} ms` +
  ` sut=${r.cpuPct.toFixed(0)}%${r.offMainPct !== undefined ? ` (off-main ${r.offMainPct.toFixed(0)}%)` : ''} other=${r.otherOnSutPct.toFixed(0)}%/${r.otherOnLoadPct.toFixed(0)}% non2xx=${r.load.non2xx} err=${r.load.errors} loadgen=${r.load.loadgenCpuPct.toFixed(0)}%` +
  (r.calibMs !== undefined ? ` cal=${r.calibMs.toFixed(1)}ms` : '') +
  (r.gate ? ` gate ${r.gate.acked}=${r.gate.appended} ${r.gate.ok ? 'ok' : 'FAIL'}` : '') +
  (r.brokerGc ? ` broker gc ${r.brokerGc.count}× max=${r.brokerGc.maxMs.toFixed(1)}` : '') +
  (r.loop ? ` eld p99=${r.loop.eld.p99.toFixed(1)} max=${r.loop.eld.max.toFixed(1)} gc max=${r.loop.gc.maxMs.toFixed(1)} ${r.loop.gc.pct.toFixed(1)}% (${r.loop.gc.minor.n} minor, ${r.loop.gc.major.n} major)` : '');


/** CPU share of the threads that are not the process' main thread (the JS thread; "MainThread" in Node ≥ 22, else the process name). */
function offMain(win: ProcessWindow): { offMainPct?: number } {
  const t = win.threadCpuUs;
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  if (!(total > 0)) return {};
  const main = t.MainThread ?? t.node ?? 0;
  return { offMainPct: ((total - main) / total) * 100 };
}

/** One run's record from what the load generator saw and the SUT process window around it. */
export function runRecord(load: LoadResult, win: ProcessWindow, where: Placement, g?: Gate, loop?: LoopStats): RunRecord {
  const completed = load.ok2xx + load.non2xx;
  const span = load.spanMs > 0 ? load.spanMs : win.wallMs;
  const cpuPct = (win.cpuUs / 1000 / span) * 100;
  // core busy % is over the whole window (incl. a possible idle tail); scale the SUT's share alike
  const sutShareOfWindow = (win.cpuUs / 1000 / win.wallMs) * 100;
  return {
    load,
    cpuUsPerReq: completed > 0 ? win.cpuUs / completed : NaN,
    cpuPct,
    coreBusyPct: win.coreBusyPct,
    otherOnSutPct: Math.max(0, (win.coreBusyPct[where.sutCore] ?? 0) - sutShareOfWindow),
    otherOnLoadPct: Math.max(0, (win.coreBusyPct[where.loadCore] ?? 0) - (win.loadPidsCpuUs / 1000 / win.wallMs) * 100),
    rssMaxMB: win.rssMaxBytes / 1_048_576,
    threadCpuUs: win.threadCpuUs,
    ...offMain(win),
    ...(g ? { gate: g } : {}),
    ...(loop ? { loop } : {}),
    ...(win.brokerGc ? { brokerGc: win.brokerGc } : {}),
  };
}

const noiseOf = (r: RunRecord): number => Math.max(r.otherOnSutPct, r.otherOnLoadPct);

/**
 * Run a measurement; if other processes took more than `noisePct` % of the SUT core or of the
 * load core during it, run it once more and keep the quieter of the two (the box may be shared).
 */
export async function quietRun(noisePct: number, log: (m: string) => void, what: string, measure: () => Promise<RunRecord>): Promise<RunRecord> {
  // every run carries the machine's speed just before it (lib/speed.ts)
  const run = async (): Promise<RunRecord> => {
    const calibMs = await machineSpeedMs();
    const r = await measure();
    return calibMs === undefined ? r : { ...r, calibMs };
  };
  const first = await run();
  if (!(noisePct > 0) || noiseOf(first) <= noisePct) return first;
  log(`${what}: other processes took ${first.otherOnSutPct.toFixed(0)}% of the SUT core, ${first.otherOnLoadPct.toFixed(0)}% of the load core; running it again`);
  const second = await run();
  return noiseOf(second) < noiseOf(first) ? second : first;
}
