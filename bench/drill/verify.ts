// The drills' invariants, from the two sides that count:
//  - the simulator's delivery log: every batch must end 'delivered' (its retries deliver what was
//    refused), and a delivered batch's notifications are the ones the sender saw 200 for;
//  - the topic, read back with a fresh consumer: each acknowledged notification must be there
//    (as many times as it was acknowledged, at least). Extra copies are the at-least-once
//    duplicates, counted, not failed.
// A notification is identified like the gateway's ce_id: instance, subscription id, record id
// and the sorted thing ids.
import type { BatchView } from '../../src/simulator/delivery-log.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { readRecords, topicEndOffset } from '../../support/kafka.ts';
import { until } from './cleanup.ts';

export interface Latency {
  batches: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Verification {
  batches: number;
  batchesDelivered: number;
  batchesFailed: number;
  batchesPending: number;
  /** notifications in delivered batches: the sender saw 200 for each */
  notificationsDelivered: number;
  /** the topic's end offset (records appended) */
  recordsInTopic: number;
  /** records the consumer read back */
  recordsRead: number;
  /** acknowledged notifications with fewer copies in the topic than acknowledgements */
  missing: number;
  /** thing ids of acknowledged notifications found in no record */
  missingThings: number;
  /** records beyond one per acknowledged notification (at-least-once) */
  duplicates: number;
  /** records matching no acknowledged notification */
  unexpected: number;
  /** records whose instance tag (key, header, value) disagrees */
  mistagged: number;
  attempts: number;
  maxAttempts: number;
  retriedBatches: number;
  /** every attempt's outcome: HTTP status or error code */
  outcomes: Record<string, number>;
  /** batch created → 200, per instance */
  latencyMs: Record<string, Latency>;
  /** a few missing notifications, for the report */
  missingSample: string[];
}

const low = (s: string) => s.toLowerCase();
export const notificationKey = (instanceId: string, subscriptionId: string, recordId: string, thingIds: readonly string[]): string =>
  `${instanceId}|${low(subscriptionId)}|${low(recordId)}|${thingIds.map(low).sort().join(',')}`;

export function allBatches(sim: Simulator, instances: readonly string[]): BatchView[] {
  return instances.flatMap((id) => sim.instance(id).deliveries());
}

/** Waits until no batch is pending or still being collected in any instance; returns when. */
export async function settle(sim: Simulator, instances: readonly string[], withinMs: number): Promise<number> {
  await until(
    'every batch delivered by the simulator’s retries',
    () => instances.map((id) => ({ id, ...sim.instance(id).delivery.counts() })),
    (c) => c.every((x) => x.pending === 0 && x.open === 0),
    withinMs,
    100,
  );
  return Date.now();
}

const quantile = (sorted: readonly number[], q: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);

export function latency(batches: readonly BatchView[]): Latency {
  const ms = batches.filter((b) => b.state === 'delivered' && b.deliveredAt).map((b) => Date.parse(b.deliveredAt!) - Date.parse(b.createdAt)).sort((a, b) => a - b);
  return { batches: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: ms.at(-1) ?? 0 };
}

const outcomeOf = (h: { status: number | undefined; error: string | undefined }): string =>
  h.status !== undefined ? String(h.status) : (/^([A-Z_a-z]+)/.exec(h.error ?? '')?.[1] ?? 'error');

export async function verify(sim: Simulator, instances: readonly string[], topic: string, brokers: string[], readWithinMs = 60_000): Promise<Verification> {
  const batches = allBatches(sim, instances);
  const acked = new Map<string, number>();
  const ackedThings = new Set<string>();
  const outcomes: Record<string, number> = {};
  let notificationsDelivered = 0;
  for (const b of batches) {
    for (const h of b.history) outcomes[outcomeOf(h)] = (outcomes[outcomeOf(h)] ?? 0) + 1;
    if (b.state !== 'delivered') continue;
    for (const n of b.notifications) {
      notificationsDelivered += 1;
      const k = notificationKey(b.instanceId, n.subscriptionId, n.recordId, n.thingIds);
      acked.set(k, (acked.get(k) ?? 0) + 1);
      for (const th of n.thingIds) ackedThings.add(`${b.instanceId}|${low(th)}`);
    }
  }

  const recordsInTopic = await topicEndOffset(topic, brokers);
  const records = recordsInTopic > 0 ? await readRecords(topic, recordsInTopic, readWithinMs, brokers) : [];
  const inTopic = new Map<string, number>();
  const thingsInTopic = new Set<string>();
  let mistagged = 0;
  for (const r of records) {
    const v = JSON.parse(r.value) as { instanceId: string; recordId: string; thingIds: string[]; subscription: { id: string } };
    if (r.headers.hv_instance_id !== v.instanceId || !r.key.startsWith(`${v.instanceId}:`)) mistagged += 1;
    const k = notificationKey(v.instanceId, v.subscription.id, v.recordId, v.thingIds);
    inTopic.set(k, (inTopic.get(k) ?? 0) + 1);
    for (const th of v.thingIds) thingsInTopic.add(`${v.instanceId}|${low(th)}`);
  }

  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  const missingSample: string[] = [];
  for (const [k, n] of acked) {
    const got = inTopic.get(k) ?? 0;
    if (got < n) {
      missing += n - got;
      if (missingSample.length < 10) missingSample.push(k);
    } else duplicates += got - n;
  }
  for (const [k, n] of inTopic) if (!acked.has(k)) unexpected += n;
  let missingThings = 0;
  for (const th of ackedThings) if (!thingsInTopic.has(th)) missingThings += 1;

  const delivered = batches.filter((b) => b.state === 'delivered');
  return {
    batches: batches.length,
    batchesDelivered: delivered.length,
    batchesFailed: batches.filter((b) => b.state === 'failed').length,
    batchesPending: batches.filter((b) => b.state === 'pending').length,
    notificationsDelivered,
    recordsInTopic,
    recordsRead: records.length,
    missing,
    missingThings,
    duplicates,
    unexpected,
    mistagged,
    attempts: batches.reduce((n, b) => n + b.attempts, 0),
    maxAttempts: batches.reduce((m, b) => Math.max(m, b.attempts), 0),
    retriedBatches: batches.filter((b) => b.attempts > 1).length,
    outcomes,
    latencyMs: Object.fromEntries(instances.map((id) => [id, latency(delivered.filter((b) => b.instanceId === id))])),
    missingSample,
  };
}

/** The invariants every drill must keep; each broken one is a sentence. */
export function invariantFailures(v: Verification, changes: number): string[] {
  const f: string[] = [];
  if (changes === 0 || v.notificationsDelivered === 0) f.push(`no load reached the topic (changes ${changes}, notifications delivered ${v.notificationsDelivered})`);
  if (v.batchesPending > 0 || v.batchesFailed > 0) f.push(`${v.batchesPending} batches still pending and ${v.batchesFailed} failed: the sender's retries did not deliver everything`);
  if (v.recordsRead < v.recordsInTopic) f.push(`read back only ${v.recordsRead} of ${v.recordsInTopic} records`);
  if (v.missing > 0) f.push(`${v.missing} acknowledged notifications are not in the topic (e.g. ${v.missingSample.slice(0, 3).join('; ')})`);
  if (v.missingThings > 0) f.push(`${v.missingThings} acknowledged thing ids are in no record`);
  if (v.unexpected > 0) f.push(`${v.unexpected} records match no acknowledged notification`);
  if (v.mistagged > 0) f.push(`${v.mistagged} records carry inconsistent instance tags`);
  return f;
}
