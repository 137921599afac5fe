// K_js, the Kafka ceiling with the gateway's own sink (src/sink/kafka-sink.ts), no HTTP.
// Runs as its own process pinned to the SUT core; its CPU per message is this whole process
// (sink + kafkajs + the tiny driver loop), read from /proc/self/stat.
//
//   node bench/sink-bench.ts '<job json>'      (see SinkJob; bench/run.ts starts it)
//
// Records: by default the record the gateway publishes for each bench body (record contract v1:
// key, ~12 ce_/hv_ headers, JSON value), prebuilt so only the sink's cost is measured;
// record "raw" = the XML body itself as the value, the gateway's key, no headers (what the
// bridge writes). Same sink settings as the gateway's defaults (loadConfig), fresh topic.
//
// Closed loop: N workers, each `await sink.publish([record])` in a loop → msg/s, CPU-µs/msg.
// Open loop: publish i is due at t0 + i/R; its latency runs from that intended time to the ack.
// Gate: every run starts and ends with no publish pending, so acked == offset delta exactly.
import pino from 'pino';
import { createKafkaSink } from '../src/sink/kafka-sink.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../src/kafka/api.ts';
import { kafkaConnectionFromEnv } from '../src/kafka/index.ts';
import { KAFKA_SETTINGS } from '../src/config/kafka.ts';
import type { SinkRecord } from '../src/sink/record.ts';
import { benchTopic, gate, kId, KafkaAdmin } from './lib/kafka.ts';
import { measureProcess, type Placement } from './lib/proc.ts';
import { describeRun, OPEN_WARMUP_S, quietRun, runRecord, summarize, type LoadResult, type RunRecord, type ScenarioResult, type Windows } from './lib/results.ts';
import { percentiles } from './lib/stats.ts';
import { payloadPool, recordSize, sinkRecordOf } from './payloads.ts';

export interface SinkJob {
  brokers: string[];
  size: number;
  /** where this process and our load-core processes run (for the foreign-load check) */
  where: Placement;
  windows: Windows;
  /** absolute open-loop rates (msg/s) to run in addition to windows.openFractions of the maximum */
  openRates?: number[];
  /** skip the closed-loop part (only openRates), e.g. to match the gateway's rates later */
  openOnly?: boolean;
  record?: 'contract' | 'raw';
  /** the Kafka client of the sink (default: KAFKA_CLIENT of the environment, else the gateway's default) */
  client?: KafkaClientName;
}

export interface SinkResult extends ScenarioResult {
  topic: string;
  recordBytes: number;
  record: 'contract' | 'raw';
  client: KafkaClientName;
}

const job = JSON.parse(process.argv[2] ?? '{}') as SinkJob;
const w = job.windows;
const client: KafkaClientName = job.client ?? KAFKA_CLIENTS.find((c) => c === process.env.KAFKA_CLIENT) ?? DEFAULT_KAFKA_CLIENT;
const log = (m: string) => process.stderr.write(`[${kId(client)}] ${m}\n`);
const pid = process.pid;
const topic = benchTopic(`kjs-${job.size}`);
const recordKind = job.record ?? 'contract';
log(`client ${client}`);

const pool = payloadPool(job.size);
const records: SinkRecord[] = pool.map((p) => (recordKind === 'raw' ? { key: `${p.event.instanceId}:${p.event.recordId}`, value: p.body, headers: {} } : sinkRecordOf(p)));

// The gateway's sink settings at their defaults (README configuration table: KAFKA_TOPIC_PARTITIONS,
// KAFKA_PUBLISH_TIMEOUT_MS, KAFKA_MAX_BATCH_RECORDS, KAFKA_MAX_BATCH_BYTES, KAFKA_MAX_QUEUED_RECORDS, KAFKA_LINGER_MS,
// KAFKA_SEND_INTERVAL_MS).
// Not read through loadConfig: that needs the whole gateway configuration (secrets, URLs).
const sink = await createKafkaSink({
  brokers: job.brokers,
  clientId: 'hvg-bench-sink',
  topic,
  partitions: 6,
  replicationFactor: -1,
  connectTimeoutMs: 15_000,
  publishTimeoutMs: 5_000,
  maxBatchRecords: 1_000,
  maxBatchBytes: 900_000,
  maxQueuedRecords: 50_000,
  // KAFKA_LINGER_MS as the gateway reads it (its default unless the environment sets it): G and K compare like with like
  lingerMs: KAFKA_SETTINGS.kafkaLingerMs.parse(process.env.KAFKA_LINGER_MS),
  sendIntervalMs: KAFKA_SETTINGS.kafkaSendIntervalMs.parse(process.env.KAFKA_SEND_INTERVAL_MS),
  kafkaLogLevel: 'error',
  logger: pino({ level: 'error' }),
  // the same KAFKA_SSL*/KAFKA_SASL_* settings as every project client (README "Connecting to your Kafka")
  security: kafkaConnectionFromEnv(process.env, 'hvg-bench-sink').security,
  client,
});
const admin = new KafkaAdmin(job.brokers);

function latencyOf(samples: number[]): LoadResult['latency'] {
  const p = percentiles(Float64Array.from(samples));
  return { p50: p.p50!, p99: p.p99!, 'p99.9': p['p99.9']!, max: p.max! };
}

/** Closed loop: `n` outstanding publishes for `durationS`; resolves once every publish settled. */
async function closed(n: number, durationS: number): Promise<LoadResult> {
  const lat: number[] = [];
  let ok = 0;
  let failed = 0;
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const r = records[seq++ % records.length]!;
      const s = performance.now();
      try {
        await sink.publish([r]);
        ok++;
        lat.push(performance.now() - s);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  const wallMs = performance.now() - t0;
  return { mode: 'closed', connections: n, sent: ok + failed, ok2xx: ok, non2xx: failed, errors: 0, rate: (ok / wallMs) * 1000, wallMs, spanMs: wallMs, latency: latencyOf(lat), loadgenCpuPct: NaN, statusCodes: {} };
}

/** Open loop: `warm` unmeasured then `count` measured publishes at `rate`/s, latency from each one's intended time. */
async function open(rate: number, measuredCount: number, warm: number): Promise<LoadResult> {
  const count = warm + measuredCount;
  const lat = new Float64Array(measuredCount);
  const lag = new Float64Array(measuredCount);
  let ok = 0;
  let failed = 0;
  let done = 0;
  let lastDone = 0;
  const interval = 1000 / rate;
  const t0 = performance.now() + 20;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const fire = (i: number) => {
    const intended = t0 + i * interval;
    if (i >= warm) lag[i - warm] = performance.now() - intended;
    const settle = (good: boolean) => {
      lastDone = performance.now();
      if (i >= warm) lat[i - warm] = lastDone - intended;
      if (good) ok++;
      else failed++;
      if (++done === count) finish();
    };
    sink.publish([records[i % records.length]!]).then(
      () => settle(true),
      () => settle(false),
    );
  };
  let next = 0;
  const tick = () => {
    const now = performance.now();
    while (next < count && t0 + next * interval <= now) fire(next++);
    if (next < count) setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - now)));
  };
  setTimeout(tick, 20);
  await finished;
  const wallMs = lastDone - (t0 + warm * interval);
  const measuredOk = ok - Math.min(warm, ok);
  const p = percentiles(lat);
  const q = percentiles(lag, [50, 99]);
  return {
    mode: 'open',
    connections: 0,
    targetRate: rate,
    sent: count,
    ok2xx: ok,
    non2xx: failed,
    errors: 0,
    rate: (measuredOk / wallMs) * 1000,
    wallMs,
    spanMs: lastDone - t0,
    latency: { p50: p.p50!, p99: p.p99!, 'p99.9': p['p99.9']!, max: p.max! },
    lag: { p50: q.p50!, p99: q.p99! },
    loadgenCpuPct: NaN,
    statusCodes: {},
  };
}

async function measured(fn: () => Promise<LoadResult>): Promise<RunRecord> {
  const before = await admin.appended(topic);
  const m = measureProcess(pid, job.where.loadPids);
  const load = await fn();
  const win = m.stop();
  const after = await admin.appended(topic);
  return runRecord(load, win, job.where, gate(load.ok2xx, after - before, load.non2xx, true));
}

const res: SinkResult = {
  id: kId(client),
  label: `gateway sink (${client}), ${recordKind} record`,
  size: job.size,
  status: 'ok',
  sweep: [],
  bestConnections: 0,
  max: null,
  open: [],
  topic,
  recordBytes: recordSize(records[0]!),
  record: recordKind,
  client,
};
const tag = `${job.size} B`;
try {
  const rates: { fraction: number; rate: number }[] = (job.openRates ?? []).map((rate) => ({ fraction: NaN, rate }));
  if (!job.openOnly) {
    log(`${tag}: warm-up ${w.warmupS} s (topic ${topic}, record ${res.recordBytes} B)`);
    await measured(() => closed(64, w.warmupS));
    for (const n of w.sweep) {
      const r = await quietRun(w.noisePct, log, `${tag} sweep ${n}`, () => measured(() => closed(n, w.sweepS)));
      log(`${tag}: sweep ${describeRun(r)}`);
      res.sweep.push(r);
    }
    const best = res.sweep.reduce((a, b) => (b.load.rate > a.load.rate ? b : a));
    res.bestConnections = best.load.connections;
    const runs: RunRecord[] = [];
    for (let i = 0; i < w.repeats; i++) {
      const r = await quietRun(w.noisePct, log, `${tag} max #${i + 1}`, () => measured(() => closed(res.bestConnections, w.measureS)));
      log(`${tag}: max #${i + 1} ${describeRun(r)}`);
      runs.push(r);
    }
    res.max = { runs, median: summarize(runs) };
    for (const f of w.openFractions) rates.push({ fraction: f, rate: Math.max(1, Math.round(res.max.median.rate * f)) });
  } else {
    log(`${tag}: warm-up ${w.warmupS} s`);
    await measured(() => closed(64, w.warmupS));
  }
  for (const { fraction, rate } of rates) {
    const runs: RunRecord[] = [];
    for (let i = 0; i < w.repeats; i++) {
      const r = await quietRun(w.noisePct, log, `${tag} open ${rate}/s #${i + 1}`, () => measured(() => open(rate, Math.max(1, Math.round(rate * w.openS)), Math.round(rate * OPEN_WARMUP_S))));
      log(`${tag}: open ${rate}/s #${i + 1} ${describeRun(r)}`);
      runs.push(r);
    }
    res.open.push({ fraction, targetRate: rate, runs, median: summarize(runs) });
  }
} catch (err) {
  res.status = 'failed';
  res.error = err instanceof Error ? err.message : String(err);
  log(`${tag}: FAILED ${res.error}`);
}
await sink.close();
await admin.close();
process.stdout.write(JSON.stringify(res) + '\n');
process.exit(0);
