// The three failure drills of issue 8 (item 4). Each one: a private stack (stack.ts), the
// subscription "glucose" created over the admin API and waited in sync, a stream of thing
// changes in both simulated instances, the fault under that load, recovery, the simulator's
// retries drain everything, then the invariants (verify.ts): every batch delivered, every
// notification the sender saw 200 for is in the topic; duplicates are counted.
//   a  kill -9 the gateway process under load and restart it (same port, same topics)
//   b  stop the broker (controlled shutdown) under load and start it again on its data
//   c  one instance's platform answers slowly: the other instance's notifications keep flowing
//      and the reconciler keeps the fast instance in sync without waiting for the slow one
import { readFileSync } from 'node:fs';
import type { BatchView } from '../../src/simulator/delivery-log.ts';
import { sleep, until, within, type Cleanup } from './cleanup.ts';
import { LoadStream } from './load.ts';
import { drillF, ENRICH_SLOW_MS, thingsCaughtUp, type ThingsVerification } from './enrichment-drill.ts';
import { drillD, drillE } from './full-drills.ts';
import type { GatewayProcess } from './gateway-process.ts';
import { DrillStack, GLUCOSE, INSTANCES, PRESSURE, WEIGHT } from './stack.ts';
import { uniqueTopic } from '../../support/kafka.ts';
import { allBatches, invariantFailures, latency, settle, verify, type Latency, type Verification } from './verify.ts';

export type DrillId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

export const DRILL_TITLES: Record<DrillId, string> = {
  a: 'kill -9 the gateway under load, restart it',
  b: 'stop and start the broker under load',
  c: 'one slow instance',
  d: 'SIGTERM the gateway under load (drain), restart it',
  e: 'two replicas, kill -9 the leader under load',
  f: 'kill -9 the gateway while enrichment is behind, restart it',
};

export interface DrillOptions {
  cleanup: Cleanup;
  log: (m: string) => void;
  /** gateway logs go here */
  runDir: string;
  /** thing changes per second in each instance */
  ratePerInstance: number;
  /** load before the fault, s */
  warmS: number;
  /** load after recovery, s */
  afterS: number;
  /** drill a: how many kill/restart rounds */
  kills: number;
  /** drill a: gateway down this long before the restart; drill b: broker down this long, s */
  downS: number;
  /** drill b: how many broker stop/start cycles */
  brokerCycles: number;
  /** drill c: platform delay of the slow instance, ms */
  slowMs: number;
  /** bound on the drain after the load stopped, ms */
  settleWithinMs: number;
  /** bound on the whole drill, ms */
  boundMs: number;
}

export const DEFAULTS: Omit<DrillOptions, 'cleanup' | 'log' | 'runDir'> = {
  ratePerInstance: 150,
  warmS: 4,
  afterS: 4,
  kills: 2,
  downS: 2,
  brokerCycles: 1,
  slowMs: 4000,
  settleWithinMs: 90_000,
  boundMs: 300_000,
};

export interface DrillResult {
  drill: DrillId;
  title: string;
  ok: boolean;
  /** broken invariants, one sentence each */
  failures: string[];
  /** thing changes made in the simulator */
  changes: number;
  /** s of load */
  loadS: number;
  /** load stopped → every batch delivered, ms */
  drainMs: number;
  /** named timings of the drill, ms */
  phases: Record<string, number>;
  /** drill c: delivery latency per instance before and during the slow window */
  latency?: Record<string, Latency>;
  verification: Verification | null;
  /** drill f: the things topic against the events */
  things?: ThingsVerification;
  notes: string[];
  gatewayLogs: string[];
  gatewayExits: string[];
  durationMs: number;
  error?: string;
}

export interface Ctx {
  o: DrillOptions;
  stack: DrillStack;
  load: LoadStream;
  phases: Record<string, number>;
  notes: string[];
  failures: string[];
  latency?: Record<string, Latency>;
  /** drill a: when each kill happened */
  kills: number[];
  /** drills b and c: when the fault began */
  faultAt?: number;
  /** drills a and b: when the gateway took notifications again after each fault */
  recoveries: number[];
  /** drill e: gateway processes beyond stack.gateway */
  replicas: GatewayProcess[];
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const ms = (since: number): number => Math.round(Date.now() - since);

/** Delivered batches so far, both instances: proof that load flows. */
const deliveredCount = (stack: DrillStack): number => INSTANCES.reduce((n, id) => n + stack.sim.instance(id).delivery.counts().delivered, 0);

export async function flowing(stack: DrillStack, what: string, withinMs = 20_000): Promise<void> {
  const before = deliveredCount(stack);
  await until(`notifications flowing (${what})`, () => deliveredCount(stack), (n) => n >= before + 5, withinMs, 50);
}

/** The first attempt after `at` that got 200 (any instance), ms after `at`; -1 if none. */
function firstAckAfter(batches: readonly BatchView[], at: number): number {
  let first = Infinity;
  for (const b of batches) for (const h of b.history) {
    const t = Date.parse(h.at);
    if (h.status === 200 && t >= at && t < first) first = t;
  }
  return Number.isFinite(first) ? Math.round(first - at) : -1;
}

/**
 * The backlog of a fault: batches created before the gateway took notifications again; ms from
 * that moment until the last of them was delivered (0 if none was still waiting).
 */
function backlogDrain(batches: readonly BatchView[], recoveredAt: number): number {
  let last = recoveredAt;
  for (const b of batches) {
    if (Date.parse(b.createdAt) >= recoveredAt) continue;
    if (b.state !== 'delivered' || !b.deliveredAt) return -1;
    last = Math.max(last, Date.parse(b.deliveredAt));
  }
  return Math.round(last - recoveredAt);
}

/** The gateway leads again and every subscription is in sync everywhere (/v1/consistency). */
async function controlPlaneBack(c: Ctx, key: string, since: number, withinMs = 45_000): Promise<void> {
  try {
    await until('the gateway leads and reports every subscription in sync', () => c.stack.admin('GET', '/v1/consistency'), (r) => r.status === 200 && r.json.leader === true && r.json.consistent === true, withinMs, 200);
    c.phases[key] = ms(since);
  } catch (err) {
    c.failures.push(`control plane did not recover: ${errText(err)}`);
  }
}

/** Batches being POSTed right now (pending and in flight), both instances. */
export const inFlight = (stack: DrillStack): number => INSTANCES.reduce((n, id) => n + stack.sim.instance(id).deliveries({ state: 'pending' }).filter((b) => b.inFlight).length, 0);

/**
 * Offsets (ms after the first log line) of the start-up steps in a gateway log: where a restart
 * spends its time before it listens.
 */
export function bootTimeline(logFile: string): Record<string, number> {
  const marks: Record<string, string> = {
    'Kafka sink ready': 'sinkReady',
    'subscription store loaded': 'storeLoaded',
    'this replica now reconciles': 'leader',
    'Server listening': 'listening',
  };
  const out: Record<string, number> = {};
  let t0: number | undefined;
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    let j: { time?: number; msg?: string };
    try {
      j = JSON.parse(line) as { time?: number; msg?: string };
    } catch {
      continue;
    }
    if (typeof j.time !== 'number') continue;
    t0 ??= j.time;
    for (const [prefix, key] of Object.entries(marks)) if (j.msg?.startsWith(prefix) && out[key] === undefined) out[key] = j.time - t0;
  }
  return out;
}

async function drillA(c: Ctx): Promise<void> {
  const { stack, o, phases } = c;
  for (let k = 1; k <= o.kills; k++) {
    await flowing(stack, `before kill ${k}`);
    // kill while the simulator has POSTs open, so some die between the Kafka ack and the 200
    let open = 0;
    try {
      open = await until('a POST in flight', () => inFlight(stack), (n) => n > 0, 3000, 1);
    } catch {
      c.notes.push(`kill ${k}: no POST was in flight at the kill`);
    }
    const pid = stack.gateway.pid;
    const killAt = Date.now();
    await stack.gateway.kill9();
    c.kills.push(killAt);
    phases[`kill${k}InFlight`] = open;
    c.stack.log(`a: kill -9 gateway pid ${pid} (round ${k}) with ${open} POSTs in flight, ${c.load.changes} changes made`);
    await sleep(o.downS * 1000);
    const { readyMs } = await stack.gateway.start();
    c.recoveries.push(Date.now());
    phases[`kill${k}ToReadyMs`] = ms(killAt);
    phases[`restart${k}ReadyMs`] = Math.round(readyMs);
    const boot = bootTimeline(stack.gateway.logs.at(-1)!);
    for (const [step, at] of Object.entries(boot)) phases[`restart${k}Boot.${step}`] = at;
    c.stack.log(`a: restarted as pid ${stack.gateway.pid}, ready ${(readyMs / 1000).toFixed(1)} s after spawn (boot: ${JSON.stringify(boot)})`);
    await flowing(stack, `after restart ${k}`);
    if (k < o.kills) await sleep(Math.max(1, o.warmS / 2) * 1000);
  }
}

async function drillB(c: Ctx): Promise<void> {
  const { stack, o, phases } = c;
  for (let k = 1; k <= o.brokerCycles; k++) {
    await flowing(stack, `before the broker stops (cycle ${k})`);
    const stopAt = Date.now();
    await within('broker stop', 60_000, stack.broker.stop());
    const stopMs = ms(stopAt);
    c.faultAt ??= stopAt;
    c.stack.log(`b: broker stopped (cycle ${k}, took ${(stopMs / 1000).toFixed(1)} s) with ${c.load.changes} changes made`);
    try {
      await until('the gateway refusing while Kafka is down', () => allBatches(stack.sim, INSTANCES).some((b) => b.history.some((h) => h.status === 503 && Date.parse(h.at) >= stopAt)), (v) => v, 20_000, 100);
    } catch {
      c.notes.push(`cycle ${k}: no 503 seen while the broker was down`);
    }
    await sleep(o.downS * 1000);
    const startAt = Date.now();
    await within('broker start', 200_000, stack.broker.start(true));
    const downMs = ms(stopAt);
    const startMs = ms(startAt);
    const upAt = Date.now();
    c.stack.log(`b: broker back after ${(downMs / 1000).toFixed(1)} s down (cycle ${k})`);
    await until('gateway ready again', async () => (await fetch(`${stack.gateway.url}/readyz`, { signal: AbortSignal.timeout(1000) })).status, (s) => s === 200, 60_000, 100);
    const readyMs = ms(upAt);
    c.recoveries.push(Date.now());
    await flowing(stack, `after the broker restart (cycle ${k})`);
    const cycle = { brokerStopMs: stopMs, brokerDownMs: downMs, brokerStartMs: startMs, gatewayReadyAfterBrokerMs: readyMs, flowingAfterBrokerMs: ms(upAt) };
    // cycle 1 keeps the names of the single-cycle drill; every cycle also under broker<k>.…
    if (k === 1) Object.assign(phases, cycle);
    for (const [key, v] of Object.entries(cycle)) phases[`broker${k}.${key}`] = v;
    if (k < o.brokerCycles) await sleep(Math.max(1, o.warmS / 2) * 1000);
  }
}

async function drillC(c: Ctx): Promise<void> {
  const { stack, o, phases } = c;
  await flowing(stack, 'before the slow fault');
  const slowAt = Date.now();
  c.faultAt = slowAt;
  const before = allBatches(stack.sim, INSTANCES).filter((b) => Date.parse(b.createdAt) < slowAt);
  stack.sim.instance('2').setFaults({ slowMs: o.slowMs });
  c.stack.log(`c: instance 2 platform answers after ${o.slowMs} ms from now`);
  // drift in the fast instance, then a new subscription: both need a pass in each instance
  const glucose1 = stack.ours('1').find((s) => s.url.endsWith('/glucose'));
  if (!glucose1) throw new Error('no glucose subscription in instance 1');
  stack.sim.instance('1').alterSubscription(glucose1.id, { typeIds: [[GLUCOSE], [PRESSURE]] });
  const putAt = Date.now();
  const put = await stack.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] });
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT weight: HTTP ${put.status} ${JSON.stringify(put.json)}`);
  phases.putWeightMs = ms(putAt);
  const driftRepaired = () => {
    const g = stack.ours('1').find((s) => s.url.endsWith('/glucose'));
    return g !== undefined && g.typeIds.length === 1 && g.typeIds[0]?.[0]?.toLowerCase() === GLUCOSE;
  };
  try {
    await until('instance 1 in sync (weight created, glucose drift repaired)', async () => ({ s: await stack.states('weight'), g: await stack.states('glucose'), drift: driftRepaired() }), (v) => v.s['1'] === 'in-sync' && v.g['1'] === 'in-sync' && v.drift, o.slowMs * 10, 50);
    phases.fastInSyncMs = ms(putAt);
    if (phases.fastInSyncMs >= o.slowMs) c.failures.push(`the fast instance took ${phases.fastInSyncMs} ms to get in sync, not less than one slow platform call (${o.slowMs} ms): it waited for the slow instance`);
  } catch (err) {
    c.failures.push(`fast instance not in sync: ${errText(err)}`);
  }
  const slowState = await stack.states('weight');
  phases.slowStateAtFastSync = slowState['2'] === 'in-sync' ? 1 : 0;
  if (slowState['2'] === 'in-sync') c.notes.push('the slow instance was already in sync when the fast one was: the fault may not have bitten');
  try {
    await until('instance 2 (slow) in sync for weight', () => stack.states('weight'), (s) => s['2'] === 'in-sync', o.slowMs * 15 + 30_000, 200);
    phases.slowInSyncMs = ms(putAt);
  } catch (err) {
    c.failures.push(`slow instance never in sync while slow: ${errText(err)}`);
  }
  // keep the load on under the fault for at least warmS more, then lift it
  const minUntil = slowAt + Math.max(o.warmS * 1000, 2 * o.slowMs);
  if (Date.now() < minUntil) await sleep(minUntil - Date.now());
  const liftAt = Date.now();
  stack.sim.instance('2').setFaults({ slowMs: 0 });
  phases.slowWindowMs = liftAt - slowAt;
  c.stack.log(`c: fault lifted after ${(phases.slowWindowMs / 1000).toFixed(1)} s`);
  const during = allBatches(stack.sim, INSTANCES).filter((b) => Date.parse(b.createdAt) >= slowAt && Date.parse(b.createdAt) < liftAt);
  c.latency = {
    'before.1': latency(before.filter((b) => b.instanceId === '1')),
    'before.2': latency(before.filter((b) => b.instanceId === '2')),
    'slow.1': latency(during.filter((b) => b.instanceId === '1')),
    'slow.2': latency(during.filter((b) => b.instanceId === '2')),
  };
  const fastDuring = c.latency['slow.1']!;
  if (fastDuring.batches === 0) c.failures.push('no notification of the fast instance was delivered during the slow window');
  phases.fastDeliveredDuringSlow = during.filter((b) => b.instanceId === '1' && b.state === 'delivered').reduce((n, b) => n + b.notificationCount, 0);
}

/** Runs one drill end to end; never throws (an error is a failed result). Stops what it started. */
export async function runDrill(id: DrillId, o: DrillOptions): Promise<DrillResult> {
  const t0 = Date.now();
  const phases: Record<string, number> = {};
  const notes: string[] = [];
  const failures: string[] = [];
  let stack: DrillStack | undefined;
  let load: LoadStream | undefined;
  let verification: Verification | null = null;
  let drainMs = -1;
  let c: Ctx | undefined;
  let error: string | undefined;
  const thingsTopic = uniqueTopic(`drill-${id}-things`);
  let things: ThingsVerification | undefined;
  const body = async () => {
    stack = await DrillStack.start({
      name: id,
      cleanup: o.cleanup,
      log: o.log,
      runDir: o.runDir,
      // f: a small per-instance concurrency so the enrichment falls behind the load
      gatewayEnv: id === 'c' ? { RECONCILE_INTERVAL_MS: '3000' } : id === 'f' ? { KAFKA_THINGS_TOPIC: thingsTopic, HV_THINGS_CONCURRENCY: '2' } : {},
    });
    phases.subscribeMs = Math.round(await stack.subscribe('glucose', [GLUCOSE]));
    if (id === 'f') {
      const r = await stack.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true });
      if (r.status !== 200) throw new Error(`enrich: true: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      for (const i of INSTANCES) stack.sim.instance(i).setFaults({ slowMs: ENRICH_SLOW_MS });
    }
    load = new LoadStream(stack.sim, { ratePerInstance: o.ratePerInstance, instances: INSTANCES, typeIds: id === 'c' ? [GLUCOSE, WEIGHT] : [GLUCOSE] });
    c = { o, stack, load, phases, notes, failures, kills: [], recoveries: [], replicas: [] };
    load.start();
    o.log(`${id}: load ${o.ratePerInstance}/s in each instance`);
    await sleep(o.warmS * 1000);
    const faultAt = Date.now();
    if (id === 'a') await drillA(c);
    else if (id === 'b') await drillB(c);
    else if (id === 'c') await drillC(c);
    else if (id === 'd') await drillD(c);
    else if (id === 'f') await drillF(c);
    else await drillE(c);
    await sleep(o.afterS * 1000);
    load.stop();
    const stoppedAt = Date.now();
    o.log(`${id}: load stopped after ${load.changes} changes; draining`);
    try {
      drainMs = (await settle(stack.sim, INSTANCES, o.settleWithinMs)) - stoppedAt;
    } catch (err) {
      failures.push(errText(err));
    }
    const batches = allBatches(stack.sim, INSTANCES);
    c.kills.forEach((at, i) => (phases[`kill${i + 1}FirstAckMs`] = firstAckAfter(batches, at)));
    c.recoveries.forEach((at, i) => (phases[`backlog${i + 1}DrainMs`] = backlogDrain(batches, at)));
    if (id !== 'a') phases.faultToFirstAckMs = firstAckAfter(batches, c.faultAt ?? faultAt);
    // drill e checked its survivor itself (stack.gateway may be the replica it killed)
    if (id !== 'e') await controlPlaneBack(c, 'controlPlaneBackMs', stoppedAt);
    if (id === 'b') {
      // the store takes writes again after the broker came back: a new subscription syncs
      try {
        phases.newSubscriptionAfterBrokerMs = Math.round(await stack.subscribe('weight', [WEIGHT], 45_000));
      } catch (err) {
        failures.push(`no new subscription after the broker restart: ${errText(err)}`);
      }
    }
    verification = await verify(stack.sim, INSTANCES, stack.topic, stack.brokers);
    if (id === 'f') things = await thingsCaughtUp(c, thingsTopic, Math.max(60_000, o.settleWithinMs));
    failures.push(...invariantFailures(verification, load.changes));
    if (load.errors > 0) notes.push(`${load.errors} thing changes refused by the simulator (last: ${load.lastError})`);
  };
  try {
    await within(`drill ${id}`, o.boundMs, body());
  } catch (err) {
    error = errText(err);
    failures.push(`drill aborted: ${error}`);
  } finally {
    load?.stop();
    await o.cleanup.run();
  }
  const s = stack as DrillStack | undefined;
  const l = load as LoadStream | undefined;
  return {
    drill: id,
    title: DRILL_TITLES[id],
    ok: failures.length === 0,
    failures,
    changes: l?.changes ?? 0,
    loadS: l && l.stoppedAt > 0 ? Math.round((l.stoppedAt - l.startedAt) / 100) / 10 : 0,
    drainMs,
    phases,
    ...((c as Ctx | undefined)?.latency ? { latency: (c as Ctx | undefined)!.latency } : {}),
    verification,
    ...(things ? { things } : {}),
    notes,
    gatewayLogs: [...(s?.gateway.logs ?? []), ...((c as Ctx | undefined)?.replicas.flatMap((r) => r.logs) ?? [])],
    gatewayExits: [...(s?.gateway.exits ?? []), ...((c as Ctx | undefined)?.replicas.flatMap((r) => r.exits) ?? [])],
    durationMs: Date.now() - t0,
    ...(error ? { error } : {}),
  };
}

const sec = (v: number) => `${(v / 1000).toFixed(1)} s`;

/** One line: the verdict and the numbers. */
export function verdictLine(r: DrillResult): string {
  const v = r.verification;
  const head = `drill ${r.drill} (${r.title}): ${r.ok ? 'PASS' : 'FAIL'}`;
  if (!v) return `${head} — ${r.failures.join('; ')}`;
  const parts = [
    `changes ${r.changes}`,
    `notifications delivered ${v.notificationsDelivered}`,
    `records in topic ${v.recordsInTopic}`,
    `duplicates ${v.duplicates}`,
    `missing ${v.missing}`,
    `max attempts ${v.maxAttempts}`,
    `drain ${r.drainMs >= 0 ? sec(r.drainMs) : 'n/a'}`,
  ];
  const p = r.phases;
  if (r.drill === 'a') {
    for (let k = 1; p[`kill${k}ToReadyMs`] !== undefined; k++) {
      const boot = p[`restart${k}Boot.leader`] !== undefined ? ` (restart waited ${sec(p[`restart${k}Boot.leader`]! - (p[`restart${k}Boot.storeLoaded`] ?? 0))} for the leadership group)` : '';
      parts.push(`kill ${k} (${p[`kill${k}InFlight`]} POSTs in flight): ready ${sec(p[`kill${k}ToReadyMs`]!)}, first 200 ${sec(p[`kill${k}FirstAckMs`]!)} after the kill${boot}, backlog drained ${sec(p[`backlog${k}DrainMs`] ?? -1)} after ready`);
    }
  } else if (r.drill === 'b') {
    parts.push(`broker down ${sec(p.brokerDownMs ?? 0)}, gateway ready ${sec(p.gatewayReadyAfterBrokerMs ?? 0)} after the broker was back, backlog drained ${sec(p.backlog1DrainMs ?? -1)} after ready`);
  } else if (r.drill === 'd') {
    parts.push(`SIGTERM → exit ${sec(p.termToExitMs ?? -1)} (${p.termExitCode === 0 ? 'exit 0' : 'NOT exit 0'}), POSTs open at SIGTERM: ${p.termOpen200 ?? 0}×200, ${p.termOpen503 ?? 0}×503, ${p.termOpenCut ?? 0} cut off`);
  } else if (r.drill === 'e') {
    parts.push(`new leader's first pass ${sec(p.failoverFirstPassMs ?? -1)} after the kill, duplicate subscriptions ${p.duplicatesBefore ?? '?'} before / ${p.duplicatesAfter ?? '?'} after`);
  } else if (r.drill === 'f') {
    const th = r.things;
    for (let k = 1; p[`kill${k}ToReadyMs`] !== undefined; k++) parts.push(`kill ${k} with enrichment ${p[`kill${k}EnrichmentBehind`]} events behind: ready ${sec(p[`kill${k}ToReadyMs`]!)}`);
    if (th) parts.push(`things: ${th.wanted} (event, thing) pairs, ${th.thingRecords} records (${Object.entries(th.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), missing ${th.missing}, duplicates ${th.duplicates}, caught up ${sec(p.enrichmentCaughtUpMs ?? -1)} after the drain`);
  } else if (r.latency) {
    const l = r.latency;
    parts.push(`fast instance in sync after ${sec(p.fastInSyncMs ?? -1)}, slow after ${sec(p.slowInSyncMs ?? -1)}; fast delivery p50/p99 ${l['slow.1']!.p50}/${l['slow.1']!.p99} ms (before ${l['before.1']!.p50}/${l['before.1']!.p99})`);
  }
  if (p.controlPlaneBackMs !== undefined) parts.push(`leader+in sync ${sec(p.controlPlaneBackMs)} after the load`);
  return `${head} — ${parts.join(', ')}${r.failures.length ? ` — ${r.failures.join('; ')}` : ''}`;
}
