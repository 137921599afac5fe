// One HTTP scenario (H, B, and later G), the same procedure for each:
//   warm-up (closed loop) → connection sweep (closed loop, keep the best) → closed-loop maximum,
//   `repeats` runs of exactly rate×measureS requests → open-loop fixed rates (fractions of the
//   median maximum), `repeats` runs each.
// Every run measures the server's CPU (utime+stime of its pid) and peak RSS, and, when the
// scenario writes to Kafka, the correctness gate (offset delta of its topic vs 2xx count).
import { setTimeout as sleep } from 'node:timers/promises';
import { gate, type Gate, type KafkaAdmin } from './kafka.ts';
import { closedLoop, type HttpRequestSpec } from './load.ts';
import { rawOpenLoop } from './open-loop.ts';
import type { Probe } from './loop-stats.ts';
import { measureProcess, type Placement } from './proc.ts';
import { describeRun, OPEN_WARMUP_S, quietRun, runRecord, summarize, type LoadResult, type RunRecord, type ScenarioResult, type Windows } from './results.ts';

export interface KafkaTarget {
  admin: KafkaAdmin;
  topic: string;
  /** Kafka records one 2xx stands for (notifications per body) */
  recordsPerRequest: number;
}

export interface HttpScenarioOptions {
  id: string;
  label: string;
  size: number;
  /** pid of the system under test (for /proc CPU and RSS) */
  pid: number;
  /** where the SUT and our load-core processes run (for the foreign-load check) */
  where: Placement;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  requests: readonly HttpRequestSpec[];
  kafka?: KafkaTarget;
  /** the SUT's in-process probe (event loop, GC, memory), when it was started with it */
  probe?: Probe;
  windows: Windows;
  log: (msg: string) => void;
}

/**
 * The topic's appended count once it stopped moving: at least 1.5 s, then until two reads 500 ms
 * apart agree (at most 15 s). A slow SUT (a crowded machine, a peer at ~1 s latency) can still
 * be writing the requests a duration-bound run left in flight well after 1.5 s, and they must not
 * land in the next run's window.
 */
async function settled(k: KafkaTarget): Promise<number> {
  await sleep(1500);
  let last = await k.admin.appended(k.topic);
  for (const end = Date.now() + 13_500; Date.now() < end; ) {
    await sleep(500);
    const now = await k.admin.appended(k.topic);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Run `fn` with the server's CPU/RSS measured and, with Kafka, the offset delta around it. */
async function measured(o: HttpScenarioOptions, exact: boolean, fn: () => Promise<LoadResult>): Promise<RunRecord> {
  const before = o.kafka ? await o.kafka.admin.appended(o.kafka.topic) : 0;
  await o.probe?.reset();
  const m = measureProcess(o.pid, o.where.loadPids);
  const load = await fn();
  const win = m.stop();
  const loop = await o.probe?.read();
  let g: Gate | undefined;
  if (o.kafka) {
    // a run cut off by its duration leaves requests in flight, and a failed request may still
    // land: let them settle before reading the offsets (the next run reads its own "before")
    const after = !exact || load.non2xx + load.errors > 0 ? await settled(o.kafka) : await o.kafka.admin.appended(o.kafka.topic);
    const k = o.kafka.recordsPerRequest;
    g = gate(load.ok2xx * k, after - before, (load.non2xx + load.errors) * k, exact);
  }
  return runRecord(load, win, o.where, g, loop);
}

export async function runHttpScenario(o: HttpScenarioOptions): Promise<ScenarioResult> {
  const w = o.windows;
  const url = o.origin;
  const tag = `${o.id} ${o.size} B`;
  const res: ScenarioResult = { id: o.id, label: o.label, size: o.size, status: 'ok', sweep: [], bestConnections: 0, max: null, open: [] };
  try {
    o.log(`${tag}: warm-up ${w.warmupS} s`);
    await measured(o, false, () => closedLoop({ url, requests: o.requests, connections: 64, durationS: w.warmupS }));

    for (const c of w.sweep) {
      const r = await quietRun(w.noisePct, o.log, `${tag} sweep c=${c}`, () => measured(o, false, () => closedLoop({ url, requests: o.requests, connections: c, durationS: w.sweepS })));
      o.log(`${tag}: sweep ${describeRun(r)}`);
      res.sweep.push(r);
    }
    const best = res.sweep.reduce((a, b) => (b.load.rate > a.load.rate ? b : a));
    res.bestConnections = best.load.connections;

    const maxRuns: RunRecord[] = [];
    for (let i = 0; i < w.repeats; i++) {
      const amount = Math.max(res.bestConnections, Math.round(best.load.rate * w.measureS));
      const r = await quietRun(w.noisePct, o.log, `${tag} max #${i + 1}`, () => measured(o, true, () => closedLoop({ url, requests: o.requests, connections: res.bestConnections, amount })));
      o.log(`${tag}: max #${i + 1} ${describeRun(r)}`);
      maxRuns.push(r);
    }
    res.max = { runs: maxRuns, median: summarize(maxRuns) };

    for (const f of w.openFractions) {
      const rate = Math.max(1, Math.round(res.max.median.rate * f));
      const runs: RunRecord[] = [];
      for (let i = 0; i < w.repeats; i++) {
        const { hostname, port } = new URL(o.origin);
        const r = await quietRun(w.noisePct, o.log, `${tag} open ${rate}/s #${i + 1}`, () =>
          measured(o, true, () =>
            rawOpenLoop({ host: hostname, port: Number(port), requests: o.requests, rate, count: Math.max(1, Math.round(rate * w.openS)), warmupCount: Math.round(rate * OPEN_WARMUP_S), connections: w.openConnections }),
          ),
        );
        o.log(`${tag}: open ${Math.round(f * 100)}% #${i + 1} ${describeRun(r)}`);
        runs.push(r);
      }
      res.open.push({ fraction: f, targetRate: rate, runs, median: summarize(runs) });
    }
  } catch (err) {
    res.status = 'failed';
    res.error = err instanceof Error ? err.message : String(err);
    o.log(`${tag}: FAILED ${res.error}`);
  }
  return res;
}
