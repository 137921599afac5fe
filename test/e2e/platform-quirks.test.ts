// Issue 13 points 2, 5, 6: a platform that echoes URLs normalised, lists other applications' odd
// subscriptions, or refuses a subscribe for a configuration reason — the simulator behaving like
// the strict implementation (quirks), the real gateway, the real broker.
import t from 'tap';
import { APP_CERT_PEM, APP_ID } from '../helpers/env.ts';
import { eventually, GLUCOSE, ours, PUBLIC_BASE, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

const WRITES = ['SubscribeToEvent', 'UpdateEventSubscription', 'UnsubscribeToEvent'];
const writes = (sim: Awaited<ReturnType<typeof startSim>>, id: string) => {
  const req = sim.instance(id).stats().requests;
  return Object.fromEntries(WRITES.map((m) => [m, Object.values(req[m] ?? {}).reduce((a, b) => a + b, 0)]));
};

t.test('a platform that echoes normalised URLs: zero churn over many passes', async (t) => {
  const sim = await startSim(t, { quirks: { normaliseUrls: true } });
  // same meaning as https://gw.test/hv, spelled differently: upper-case host, default port, %68 = "h"
  const gw = await startGateway(t, sim, { PUBLIC_BASE_URL: 'https://GW.Test:443/%68v' });
  for (const name of ['glucose', 'weight']) t.equal((await gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds: [name === 'glucose' ? GLUCOSE : WEIGHT] })).status, 201);
  for (const id of ['1', '2']) await eventually(`both in ${id}`, () => ours(sim, id), (l) => l.length === 2);
  t.equal(ours(sim, '1')[0]!.url.startsWith(`${PUBLIC_BASE}/notifications/1/`), true, 'the platform stored the normalised spelling');
  await gw.admin('POST', '/v1/reconcile');
  const before = ['1', '2'].map((id) => writes(sim, id));
  for (let i = 0; i < 10; i++) {
    const run = await gw.admin('POST', '/v1/reconcile');
    t.same(run.json.results.map((r: { plan: unknown[] }) => r.plan), [[], []], `pass ${i + 1}: nothing to do`);
  }
  t.same(['1', '2'].map((id) => writes(sim, id)), before, 'no subscribe, update or unsubscribe in 10 passes');
  t.same(before, [{ SubscribeToEvent: 2, UpdateEventSubscription: 0, UnsubscribeToEvent: 0 }, { SubscribeToEvent: 2, UpdateEventSubscription: 0, UnsubscribeToEvent: 0 }], 'two creates per instance, ever');
  const report = (await gw.admin('GET', '/v1/consistency')).json;
  t.same([report.consistent, report.summary.foreign], [true, 0], 'ours are ours: nothing foreign');
  // notifications still arrive through the normalised URL
  const us = sim.instance('1');
  us.addThing(us.createPerson().recordId, GLUCOSE);
  await eventually('delivered', () => us.deliveries(), (l) => l.length === 1 && l[0]!.state === 'delivered');
});

t.test('odd foreign subscriptions are reported with why and do not stop ours; a PUT past 25 is refused with 409', async (t) => {
  const kinds = ['http-url', 'bad-type-id', 'no-filters', 'bad-key-version', 'unknown-channel'] as const;
  const sim = await startSim(t, { quirks: { oddForeignSubscriptions: [...kinds] } });
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  for (const id of ['1', '2']) await eventually(`glucose in ${id}`, () => ours(sim, id), (l) => l.length === 1);
  const report = await eventually('reported', async () => (await gw.admin('GET', '/v1/consistency')).json, (r) => r.consistent === true && r.summary.foreign === 10);
  const us = report.instances.find((i: { instanceId: string }) => i.instanceId === '1');
  t.equal(us.lastPassOk, true, 'the pass succeeded');
  t.same(us.foreign.map((f: { id: string }) => f.id).sort(), [...sim.instance('1').quirkView().oddSubscriptionIds].sort(), 'each odd entry, by id');
  t.ok(us.foreign.every((f: { unreadable?: string }) => typeof f.unreadable === 'string'), 'each says why it is unreadable');
  t.match(us.foreign.find((f: { url: string }) => f.url.startsWith('http://')).unreadable, /must be an absolute https:\/\/ URL/);

  // 5 foreign + ours: fill instance 1 and 2 up to 25, then one more is refused before any platform call
  for (let i = 1; i < 20; i++) t.equal((await gw.admin('PUT', `/v1/subscriptions/s${i}`, { typeIds: [WEIGHT] })).status, 201);
  const over = await gw.admin('PUT', '/v1/subscriptions/one-too-many', { typeIds: [WEIGHT] });
  t.same([over.status, over.json.code], [409, 'HVG_ERR_SUBSCRIPTION_LIMIT']);
  t.match(over.json.message, /instance "1" already holds 25 .*20 of the gateway's, 5 foreign/);
  t.equal((await gw.admin('GET', '/v1/subscriptions/one-too-many')).status, 404, 'nothing stored');
});

t.test('133 and 11 are configuration errors: reported once with what to fix, retried only on a spec change or an operator ask', async (t) => {
  const sim = await startSim(t, { subscriptionLimit: 1 });
  const gw = await startGateway(t, sim, { RECONCILE_INTERVAL_MS: '1000' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  for (const id of ['1', '2']) await eventually(`glucose in ${id}`, () => ours(sim, id), (l) => l.length === 1);
  await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] });
  const st = await eventually('weight in error', () => gw.admin('GET', '/v1/subscriptions/weight'), (r) => r.json.status.every((s: { state: string }) => s.state === 'error'));
  t.match(st.json.status[0].lastError, /subscription limit is reached in instance 1 \(status 133/);
  const subscribes = () => ['1', '2'].map((id) => writes(sim, id).SubscribeToEvent);
  const first = subscribes();
  await new Promise((r) => setTimeout(r, 3500)); // three interval passes
  t.same(subscribes(), first, 'not retried pass after pass');
  const consistency = (await gw.admin('GET', '/v1/consistency')).json;
  t.same(consistency.reconciler.map((r: { consecutiveFailures: number }) => r.consecutiveFailures), [0, 0], 'no failure backoff');
  await gw.admin('POST', '/v1/reconcile');
  t.same(subscribes(), first.map((n) => n + 1), 'an operator ask retries once');
  await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT, GLUCOSE] });
  await eventually('a spec change retries', () => subscribes(), (l) => l.every((n, i) => n === first[i]! + 2));
});

t.test('an application without the Eventing method group: one clear configuration error per instance, not retried', async (t) => {
  // the same app, granted no method group
  const sim = await startSim(t, { applications: [{ appId: APP_ID, certificates: [APP_CERT_PEM], actionUrl: `${PUBLIC_BASE}/redirect.aspx`, methodGroups: [] }] });
  const gw = await startGateway(t, sim, { RECONCILE_INTERVAL_MS: '1000' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  const st = await eventually('error', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'error'));
  t.match(st.json.status[1].lastError, /the application lacks the Eventing method group in instance 2/);
  const lists = () => Object.values(sim.instance('2').stats().requests.GetEventSubscriptions ?? {}).reduce((a, b) => a + b, 0);
  const n = lists();
  await new Promise((r) => setTimeout(r, 3500));
  t.equal(lists(), n, 'no listing retried by the interval');
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE, WEIGHT] });
  await eventually('a spec change tries again', () => lists(), (x) => x > n);
});

t.test('134 (invalid data, here a URL outside the ActionURL root) is a configuration error too', async (t) => {
  const sim = await startSim(t, { applications: [{ appId: APP_ID, certificates: [APP_CERT_PEM], actionUrl: 'https://elsewhere.test/app/redirect.aspx' }] });
  const gw = await startGateway(t, sim, { RECONCILE_INTERVAL_MS: '1000' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  const st = await eventually('error', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'error'));
  t.match(st.json.status[0].lastError, /instance 1 refused the subscription as invalid \(status 134.*ActionURL root/);
  const subscribes = () => writes(sim, '1').SubscribeToEvent;
  const n = subscribes();
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(subscribes(), n, 'not retried by the interval');
});
