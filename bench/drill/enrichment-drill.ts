// Drill f (issue 15): kill -9 the gateway while the enrichment stage is behind. The glucose
// subscription has enrich: true, both instances' platforms answer after ENRICH_SLOW_MS and the
// stage runs with a small per-instance concurrency (HV_THINGS_CONCURRENCY=2), so the things lag behind the events; the
// gateway is killed with that backlog and restarted. Invariant: once it caught up, every
// (event, thing) of every event in the events topic has at least one record in the things topic,
// from the event's own instance (duplicates counted, not failed: at-least-once).
import { readRecords, topicEndOffset } from '../../support/kafka.ts';
import { sleep, until } from './cleanup.ts';
import type { Ctx } from './drills.ts';
import type { DrillStack } from './stack.ts';

/** Platform latency of both instances during drill f (every call, GetThings included), ms. */
export const ENRICH_SLOW_MS = 30;

export interface ThingsVerification {
  /** (event, thing) pairs the events topic asks for */
  wanted: number;
  thingRecords: number;
  /** pairs with no record */
  missing: number;
  /** records beyond one per pair */
  duplicates: number;
  /** records whose instance differs from their event's */
  wrongInstance: number;
  byKind: Record<string, number>;
  missingSample: string[];
}

async function readAll(topic: string, brokers: string[]) {
  const n = await topicEndOffset(topic, brokers);
  return n > 0 ? readRecords(topic, n, 60_000, brokers) : [];
}

/** Every event's things against the things topic. */
export async function verifyThings(eventsTopic: string, thingsTopic: string, brokers: string[]): Promise<ThingsVerification> {
  const wanted = new Map<string, string>(); // eventId|thingId → instance
  for (const r of await readAll(eventsTopic, brokers)) {
    const v = JSON.parse(r.value) as { thingIds: string[] };
    for (const th of v.thingIds) wanted.set(`${r.headers.ce_id}|${th.toLowerCase()}`, r.headers.hv_instance_id ?? '');
  }
  const seen = new Map<string, number>();
  const byKind: Record<string, number> = {};
  let wrongInstance = 0;
  const records = await readAll(thingsTopic, brokers);
  for (const r of records) {
    const v = JSON.parse(r.value) as { eventId: string; thingId: string; instanceId: string; kind: string };
    const k = `${v.eventId}|${v.thingId.toLowerCase()}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
    const want = wanted.get(k);
    if (want !== undefined && (want !== v.instanceId || r.headers.hv_instance_id !== want)) wrongInstance++;
  }
  let missing = 0;
  let duplicates = 0;
  const missingSample: string[] = [];
  for (const k of wanted.keys()) {
    const n = seen.get(k) ?? 0;
    if (n === 0) {
      missing++;
      if (missingSample.length < 5) missingSample.push(k);
    } else duplicates += n - 1;
  }
  return { wanted: wanted.size, thingRecords: records.length, missing, duplicates, wrongInstance, byKind, missingSample };
}

/** Events this replica fetched and has not enriched yet, plus the partition lag it reported. */
async function enrichmentBehind(stack: DrillStack): Promise<number> {
  const r = await stack.admin('GET', '/v1/enrichment');
  if (r.status !== 200) return 0;
  const lag = (r.json.instances as { lagEvents: number }[]).reduce((n, i) => n + i.lagEvents, 0);
  const topicLag = Object.values(r.json.topicLag as Record<string, number>).reduce((n, x) => n + x, 0);
  return lag + topicLag;
}

export async function drillF(c: Ctx): Promise<void> {
  const { stack, o, phases } = c;
  for (let k = 1; k <= o.kills; k++) {
    const behind = await until('enrichment behind the events', () => enrichmentBehind(stack), (n) => n > 20, 30_000, 100);
    const pid = stack.gateway.pid;
    const killAt = Date.now();
    await stack.gateway.kill9();
    c.kills.push(killAt);
    phases[`kill${k}EnrichmentBehind`] = behind;
    stack.log(`f: kill -9 gateway pid ${pid} (round ${k}) with the enrichment ${behind} events behind`);
    await sleep(o.downS * 1000);
    const { readyMs } = await stack.gateway.start();
    c.recoveries.push(Date.now());
    phases[`kill${k}ToReadyMs`] = Date.now() - killAt;
    phases[`restart${k}ReadyMs`] = Math.round(readyMs);
    if (k < o.kills) await sleep(Math.max(1, o.warmS / 2) * 1000);
  }
}

/** After the load: wait until the things cover every event (bounded), then report. */
export async function thingsCaughtUp(c: Ctx, thingsTopic: string, withinMs: number): Promise<ThingsVerification> {
  const t0 = Date.now();
  let last: ThingsVerification | undefined;
  try {
    // cheap first (the replica's own lag), then the full read of both topics, which is not
    await until('the enrichment lag at 0', () => enrichmentBehind(c.stack), (n) => n === 0, withinMs, 500);
    last = await until('every event enriched', () => verifyThings(c.stack.topic, thingsTopic, c.stack.brokers), (v) => v.missing === 0, Math.max(10_000, withinMs - (Date.now() - t0)), 5000);
    c.phases.enrichmentCaughtUpMs = Date.now() - t0;
  } catch {
    last = await verifyThings(c.stack.topic, thingsTopic, c.stack.brokers);
  }
  if (last.missing > 0) c.failures.push(`${last.missing} (event, thing) pairs have no thing record after ${withinMs / 1000} s (e.g. ${last.missingSample.slice(0, 3).join('; ')})`);
  if (last.wrongInstance > 0) c.failures.push(`${last.wrongInstance} thing records come from another instance than their event`);
  if (last.wanted === 0) c.failures.push('no event asked for a thing');
  return last;
}
