// P, the processing ceiling: what the gateway does per notification request between reading the
// body and handing records to the sink — no network, no Kafka. Runs pinned to the SUT core.
//
//   node bench/processing.ts '<job json>'      (bench/run.ts starts it)
//
// One op = processNotification(body, authorization): parse the Authorization header, verify the
// HMAC over the raw bytes (constant time), parse the XML strictly, build the Kafka record of each
// notification (record contract v1). Stage costs are also timed separately (verify / parse /
// record) so the table's P can be read against what the issue calls "verify + parse".
// P is a pure CPU loop, so its rate is ops per CPU-second of this process (1e6 / CPU-µs per op):
// the rate of one whole core, which stays right when other processes share the core.
import type { KeyObject } from 'node:crypto';
import { notificationKeyObject, parseNotificationAuthorization, parseNotificationBody, verifyNotification } from '../src/healthvault/index.ts';
import { toRecord, type SinkRecord } from '../src/sink/record.ts';
import { measureProcess } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { FIXTURE_KEY, INSTANCE_ID, payloadPool, signatureHeader, SUBSCRIPTION_NAME } from './payloads.ts';

/** The key as the receiver holds it: a cached KeyObject (src/notifications/receiver.ts). */
const FIXTURE_KEY_OBJECT: KeyObject = notificationKeyObject(FIXTURE_KEY);

/**
 * THE place to keep in step with the gateway's notification path (src/notifications/receiver.ts,
 * NotificationReceiver.receive): the same codec calls, in the same order, for one request — strict
 * Authorization parse, constant-time HMAC over the raw bytes with the cached KeyObject, strict XML
 * parse, one contract record per notification. Left out: the route/subscription lookups (Map
 * gets), metrics counters, and sink.publish (that is K_js). Returns the records it would publish.
 */
export function processNotification(body: Buffer, authorization: string, key: KeyObject = FIXTURE_KEY_OBJECT): SinkRecord[] {
  const auth = parseNotificationAuthorization(authorization);
  if (!verifyNotification(auth, key, body)) throw new Error('bad signature');
  const parsed = parseNotificationBody(body, { crossCheck: false }); // as the receiver: authenticated input
  const receivedAt = new Date();
  return parsed.notifications.map((n) =>
    toRecord({ ...n, subscriptionId: n.subscriptionId.toLowerCase(), instanceId: INSTANCE_ID, subscriptionName: SUBSCRIPTION_NAME, keyVersion: auth.keyVersionId, receivedAt }),
  );
}

export interface ProcessingJob {
  size: number;
  warmupS: number;
  runS: number;
  repeats: number;
}

export interface ProcessingRun {
  ops: number;
  /** ops per CPU-second = 1e6 / cpuUsPerOp: what one whole core does, however busy the box was */
  opsPerS: number;
  /** ops per wall-clock second (lower than opsPerS when other processes took the core) */
  opsPerWallS: number;
  /** wall µs per op */
  usPerOp: number;
  /** CPU µs per op (utime+stime of this process) */
  cpuUsPerOp: number;
}

export interface ProcessingResult {
  id: 'P';
  label: string;
  size: number;
  status: 'ok' | 'failed';
  error?: string;
  runs: ProcessingRun[];
  median: ProcessingRun | null;
  /** CPU µs per op of each stage alone (median of repeats) */
  stages: { verify: number; parse: number; record: number };
}

function loop(seconds: number, op: (i: number) => unknown): ProcessingRun {
  const m = measureProcess(process.pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let ops = 0;
  let sink = 0;
  while (performance.now() < end) {
    // 64 ops between clock reads keeps the timer out of the measurement
    for (let k = 0; k < 64; k++) {
      const r = op(ops++);
      if (r) sink++;
    }
  }
  const wall = performance.now() - t0;
  const { cpuUs } = m.stop();
  if (sink < 0) process.stdout.write(''); // keep results alive
  return { ops, opsPerS: 1e6 / (cpuUs / ops), opsPerWallS: (ops / wall) * 1000, usPerOp: (wall * 1000) / ops, cpuUsPerOp: cpuUs / ops };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const job = JSON.parse(process.argv[2] ?? '{}') as ProcessingJob;
  const pool = payloadPool(job.size);
  const bodies = pool.map((p) => p.body);
  const headers = bodies.map((b) => signatureHeader(b));
  const n = bodies.length;
  const res: ProcessingResult = { id: 'P', label: 'verify + parse + record (no I/O)', size: job.size, status: 'ok', runs: [], median: null, stages: { verify: NaN, parse: NaN, record: NaN } };
  try {
    const full = (i: number) => processNotification(bodies[i % n]!, headers[i % n]!);
    loop(job.warmupS, full);
    for (let r = 0; r < job.repeats; r++) res.runs.push(loop(job.runS, full));
    const mid = [...res.runs].sort((a, b) => a.opsPerS - b.opsPerS)[(res.runs.length - 1) >> 1]!;
    res.median = mid;
    // stage costs: shorter runs, the same inputs
    const stageS = Math.max(0.5, job.runS / 4);
    const parsed = bodies.map((b) => parseNotificationBody(b).notifications[0]!);
    const verify = (i: number) => verifyNotification(parseNotificationAuthorization(headers[i % n]!), FIXTURE_KEY_OBJECT, bodies[i % n]!);
    const parse = (i: number) => parseNotificationBody(bodies[i % n]!);
    const record = (i: number) => toRecord({ ...parsed[i % n]!, instanceId: INSTANCE_ID, subscriptionName: SUBSCRIPTION_NAME, keyVersion: 'v', receivedAt: new Date() });
    const st = (op: (i: number) => unknown) => median(Array.from({ length: job.repeats }, () => loop(stageS, op).cpuUsPerOp));
    res.stages = { verify: st(verify), parse: st(parse), record: st(record) };
    process.stderr.write(
      `[P] ${job.size} B: ${Math.round(mid.opsPerS)} ops per CPU-s (${Math.round(mid.opsPerWallS)} per wall s), ${mid.cpuUsPerOp.toFixed(1)} CPU-µs/op; ` +
        `verify ${res.stages.verify.toFixed(1)} + parse ${res.stages.parse.toFixed(1)} + record ${res.stages.record.toFixed(1)} µs\n`,
    );
  } catch (err) {
    res.status = 'failed';
    res.error = err instanceof Error ? err.message : String(err);
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}
