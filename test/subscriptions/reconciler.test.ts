// The reconciler against the in-memory state log and the real simulator over sockets (the
// gateway's registry and platform client, no HTTP or Kafka mocks): convergence, one append per
// pass, no churn when idle, drift, failures per instance, configuration refusals held back.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import type { SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { Reconciler } from '../../src/subscriptions/reconciler.ts';
import { observationKey } from '../../src/subscriptions/state-keys.ts';
import { requestReconcile, writeSpec } from '../../src/subscriptions/state-log.ts';
import { APP_ID, discoverySettings, registry, simCount, startSim } from '../instances/helpers.ts';
import { MemoryStateLog } from '../helpers/memory-state-log.ts';

const BASE = 'https://gw.test/hv';
const GLU = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
const WEIGHT = '3d34d87e-7fc1-4153-800f-f56592cb0d17';
const SECRET = 'reconciler-test-secret-0123456789-abcdefgh';
const spec = (name: string, over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name, eventType: 'record-item-changed', typeIds: [GLU], instances: null, keyVersion: 1, previousKeyVersion: null, keyRotatedAt: null, keyVersionFloor: 1, revision: 1, createdAt: '', updatedAt: '', ...over,
});
const ours = (sim: Simulator, id: string) => sim.instance(id).listSubscriptions().filter((s) => s.url.startsWith(`${BASE}/notifications/`));
const writes = (sim: Simulator, id: string) => ['SubscribeToEvent', 'UpdateEventSubscription', 'UnsubscribeToEvent'].reduce((n, m) => n + simCount(sim, id, m), 0);

async function setup(t: Test, simConfig: Parameters<typeof startSim>[1] = {}, env: Record<string, string> = {}) {
  const sim = await startSim(t, simConfig);
  const directory = registry(t, discoverySettings(sim, env));
  await directory.refresh();
  const state = new MemoryStateLog();
  const leader = { is: true };
  const reconciler = new Reconciler({
    state, directory, keys: new KeyDeriver(SECRET), publicBaseUrl: BASE, keyRetryHorizonMs: 60_000, intervalMs: 3_600_000,
    concurrency: 2, passTimeoutMs: 10_000, isLeader: () => leader.is, logger: pino({ level: 'silent' }),
  });
  t.teardown(() => reconciler.stop());
  return { sim, state, reconciler, leader };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

t.test('converges every instance with one append per pass; an idle pass calls and writes nothing', async (t) => {
  const { sim, state, reconciler } = await setup(t);
  await writeSpec(state, spec('glu', { typeIds: [GLU, WEIGHT] }));
  await writeSpec(state, spec('eu-only', { instances: ['2'] }));
  const appends = state.log.appends.length;
  const results = await reconciler.reconcileNow();
  t.same(results.map((r) => [r.instanceId, r.ok, r.applied, r.error]), [['1', true, 1, null], ['2', true, 2, null]]);
  t.same(state.log.appends.slice(appends).sort(), [2, 3], 'one append per instance: its observations and its report');
  const derived = new KeyDeriver(SECRET);
  for (const id of ['1', '2']) {
    const s = ours(sim, id).find((x) => x.url === `${BASE}/notifications/${id}/glu`);
    t.same([s?.keyVersionId, s?.keyBase64], ['v1', derived.key(id, 'glu', 1).toString('base64')], `instance ${id}: its own derived key`);
    t.match(state.view.observation(id, 'glu'), { state: 'in-sync', hvSubscriptionId: s?.id, knownIds: [s?.id], keyVersion: 1, specRevision: 1 });
  }
  t.equal(state.view.observation('1', 'eu-only'), undefined, 'no observation where a spec does not apply');
  t.same(ours(sim, '1').length, 1);

  const calls = ['1', '2'].map((id) => writes(sim, id));
  const before = state.log.records.length;
  const idle = await reconciler.reconcileNow();
  t.same(idle.map((r) => [r.ok, r.plan.length]), [[true, 0], [true, 0]]);
  t.same(['1', '2'].map((id) => writes(sim, id)), calls, 'no platform write');
  t.equal(state.log.records.length, before, 'no store write: nothing changed');
});

t.test('drift behind our back is repaired; unwanted ones of ours removed, foreign ones reported and kept', async (t) => {
  const { sim, state, reconciler } = await setup(t);
  await writeSpec(state, spec('glu'));
  await writeSpec(state, spec('gone'));
  await reconciler.reconcileNow();
  const us = sim.instance('1');
  us.deleteSubscription(ours(sim, '1').find((s) => s.url.endsWith('/glu'))!.id);
  const foreign = us.createSubscription({ appId: APP_ID, url: `${BASE}/other-handler`, keyVersionId: 'x1', typeIds: [[GLU]] });
  const dupe = us.createSubscription({ appId: APP_ID, url: `${BASE}/notifications/1/gone`, keyVersionId: 'v1', typeIds: [[GLU]] });
  await writeSpec(state, { name: 'gone', deleted: true, revision: 2, keyVersion: 1 });
  const [r1] = await reconciler.reconcileNow();
  t.same(r1!.plan.map((a) => [a.kind, a.name]).sort(), [['create', 'glu'], ['delete', 'gone'], ['delete', 'gone']]);
  t.same(ours(sim, '1').map((s) => s.url), [`${BASE}/notifications/1/glu`]);
  t.ok(us.listSubscriptions().some((s) => s.id === foreign.id), 'foreign kept');
  t.same(state.view.report('1')?.foreign.map((f) => f.id), [foreign.id.toLowerCase()]);
  t.equal(state.view.observation('1', 'gone'), undefined, 'the deleted spec\'s observation is tombstoned');
  t.equal(state.log.values(observationKey('1', 'gone')).at(-1)?.value, null);
  t.not(state.view.observation('1', 'glu')?.hvSubscriptionId, dupe.id.toLowerCase());
});

t.test('an instance that fails is reported on its own; the other converges', async (t) => {
  const { sim, state, reconciler } = await setup(t);
  await writeSpec(state, spec('glu'));
  sim.instance('2').setFaults({ down: true });
  const results = await reconciler.reconcileNow();
  t.same(results.map((r) => r.ok), [true, false]);
  t.match(results[1]!.error, /^cannot list subscriptions: /);
  t.match(state.view.observation('2', 'glu'), { state: 'error', hvSubscriptionId: null, lastError: /^cannot list subscriptions/ });
  t.match(state.view.report('2'), { lastPassOk: false });
  t.match(state.view.observation('1', 'glu'), { state: 'in-sync' });
  t.match(reconciler.status().find((s) => s.instanceId === '2'), { consecutiveFailures: 1, lastError: /^cannot list/ });
});

t.test('a configuration refusal (133) is recorded once and retried only on a spec change or an operator request', async (t) => {
  const { sim, state, reconciler } = await setup(t, { subscriptionLimit: 1 });
  await writeSpec(state, spec('a', { instances: ['1'] }));
  await writeSpec(state, spec('b', { instances: ['1'] }));
  const [first] = await reconciler.reconcileNow();
  t.same([first!.ok, first!.configError], [true, true], 'not a retriable failure: no backoff');
  const refused = ['a', 'b'].find((n) => state.view.observation('1', n)?.configError != null)!;
  t.match(state.view.observation('1', refused), { state: 'error', configError: { hvStatus: 133, specRevision: 1 }, lastError: /subscription limit is reached in instance 1 \(status 133/ });
  const subscribes = simCount(sim, '1', 'SubscribeToEvent');
  reconciler.start(); // leader: an interval or a change triggers passes from now on
  reconciler.trigger();
  await until('the triggered pass', () => !reconciler.status()[0]!.running);
  t.equal(simCount(sim, '1', 'SubscribeToEvent'), subscribes, 'a plain pass holds the refused create back');
  await requestReconcile(state); // what POST /v1/reconcile on a follower writes
  await until('the forced pass', () => simCount(sim, '1', 'SubscribeToEvent') === subscribes + 1);
});

t.test('only the leader acts; a spec change reaches it through the log', async (t) => {
  const { sim, state, reconciler, leader } = await setup(t);
  leader.is = false;
  reconciler.start();
  await writeSpec(state, spec('glu'));
  await new Promise((r) => setTimeout(r, 200));
  t.same(['1', '2'].map((id) => writes(sim, id)), [0, 0], 'a follower never calls the platform');
  t.equal(reconciler.isLeader(), false);
  leader.is = true;
  await writeSpec(state, spec('glu', { typeIds: [WEIGHT], revision: 2 }));
  await until('created in both', () => ours(sim, '1').length === 1 && ours(sim, '2').length === 1);
  t.same(ours(sim, '1')[0]!.typeIds.flat(), [WEIGHT]);
});

t.test('a subscription that vanishes between the listing and its deletion counts as deleted (the instance layer answers)', async (t) => {
  const { sim, state, reconciler } = await setup(t, {}, { HV_REQUEST_TIMEOUT_MS: '10000' });
  await writeSpec(state, spec('glu', { instances: ['1'] }));
  await reconciler.reconcileNow();
  const us = sim.instance('1');
  const stray = us.createSubscription({ appId: APP_ID, url: `${BASE}/notifications/1/stray`, keyVersionId: 'v1', typeIds: [[GLU]] });
  const lists = simCount(sim, '1', 'GetEventSubscriptions');
  us.setFaults({ slowMs: 1500 }); // every answer waits: the unsubscribe is held while we delete behind its back
  const run = reconciler.reconcileNow();
  await until('the listing answered', () => simCount(sim, '1', 'GetEventSubscriptions') > lists, 20_000);
  us.deleteSubscription(stray.id);
  const [r] = await run;
  us.setFaults({ slowMs: 0 });
  t.equal(simCount(sim, '1', 'UnsubscribeToEvent', '132'), 1, 'the platform no longer knew it');
  t.same([r!.ok, r!.error, r!.applied, r!.plan.map((a) => [a.kind, a.name])], [true, null, 1, [['delete', 'stray']]], 'converged, no error');
});
