// Issue 5's checks against the simulator (two instances) and the real broker.
import t from 'tap';
import { eventually, GLUCOSE, ours, PRESSURE, PUBLIC_BASE, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

const flat = (typeIds: string[][]) => typeIds.flat().map((x) => x.toLowerCase()).sort();

t.test('PUT → identical in both instances; GET shows it in sync; DELETE → gone from both', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  const put = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE, WEIGHT] });
  t.equal(put.status, 201);
  t.match(put.headers.etag, /^"glucose-r1\.[\w-]{10}"$/, 'the spec revision plus a digest of the status');
  for (const id of ['1', '2']) {
    const [s] = await eventually(`subscription in instance ${id}`, () => ours(sim, id), (l) => l.length === 1);
    t.equal(s!.url, `${PUBLIC_BASE}/notifications/${id}/glucose`, `instance ${id}: its own URL`);
    t.same(flat(s!.typeIds), [GLUCOSE, WEIGHT].sort(), `instance ${id}: filters`);
    t.equal(s!.keyVersionId, 'v1');
  }
  t.not(ours(sim, '1')[0]!.keyBase64, ours(sim, '2')[0]!.keyBase64, 'each instance has its own key');
  const got = await eventually('in-sync status', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  t.same(got.json.status.map((s: { instanceId: string; hvSubscriptionId: string }) => [s.instanceId, s.hvSubscriptionId]), [['1', ours(sim, '1')[0]!.id], ['2', ours(sim, '2')[0]!.id]]);
  t.equal((await gw.admin('GET', '/v1/consistency')).json.consistent, true);

  // If-Match: a stale ETag is refused
  const stale = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] }, { 'if-match': '"glucose-r0"' });
  t.same([stale.status, stale.json.code], [412, 'HVG_ERR_PRECONDITION_FAILED']);
  const weak = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] }, { 'if-match': `W/${put.headers.etag as string}` });
  t.same([weak.status, weak.json.code], [412, 'HVG_ERR_PRECONDITION_FAILED'], 'a weak ETag never matches If-Match (RFC 9110 strong comparison)');
  const bad = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: ['not-a-guid'] });
  t.same([bad.status, bad.json.code], [400, 'HVG_ERR_VALIDATION']);
  t.match(bad.json.message, /typeIds\[0\]/);

  const del = await gw.admin('DELETE', '/v1/subscriptions/glucose', undefined, { 'if-match': put.headers.etag as string });
  t.equal(del.status, 204);
  for (const id of ['1', '2']) await eventually(`gone from instance ${id}`, () => ours(sim, id), (l) => l.length === 0);
  t.equal((await gw.admin('GET', '/v1/subscriptions/glucose')).status, 404);
});

t.test('drift behind our back is repaired and reported; foreign subscriptions are left alone', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/bp', { typeIds: [PRESSURE] });
  for (const id of ['1', '2']) await eventually(`created in ${id}`, () => ours(sim, id), (l) => l.length === 1);
  const foreign = sim.instance('1').createSubscription({ appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: `${PUBLIC_BASE}/other-handler`, keyVersionId: 'x1', typeIds: [[GLUCOSE]] });
  // delete in US, alter filters in EU, add a duplicate of ours in EU
  sim.instance('1').deleteSubscription(ours(sim, '1')[0]!.id);
  const eu = ours(sim, '2')[0]!;
  sim.instance('2').alterSubscription(eu.id, { typeIds: [[WEIGHT]] });
  sim.instance('2').createSubscription({ appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: eu.url, keyVersionId: 'v1', typeIds: [[GLUCOSE]] });

  const plan = await gw.admin('POST', '/v1/reconcile?dryRun=true');
  t.equal(plan.status, 200);
  const kinds = plan.json.plans.map((p: { instanceId: string; actions: { kind: string }[] }) => [p.instanceId, p.actions.map((a) => a.kind).sort()]);
  t.same(kinds, [['1', ['create']], ['2', ['delete', 'update']]], 'the dry run shows the plan');
  t.equal(ours(sim, '1').length, 0, 'a dry run changes nothing');

  const run = await gw.admin('POST', '/v1/reconcile');
  t.equal(run.status, 200);
  t.ok(run.json.results.every((r: { ok: boolean }) => r.ok), 'the pass succeeded everywhere');
  t.equal(ours(sim, '1').length, 1, 'recreated in US');
  t.same(ours(sim, '2').map((s) => flat(s.typeIds)), [[PRESSURE]], 'EU: one subscription, filters restored');
  t.ok(sim.instance('1').listSubscriptions().some((s) => s.id === foreign.id), 'the foreign subscription is untouched');
  const report = await gw.admin('GET', '/v1/consistency');
  t.equal(report.json.consistent, true);
  t.same(report.json.instances.find((i: { instanceId: string }) => i.instanceId === '1').foreign.map((f: { id: string }) => f.id), [foreign.id], 'and reported as foreign');
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  t.match(metrics, /hv_gateway_reconcile_drift_found_total\{instance="1",kind="create"\} [1-9]/);
  t.match(metrics, /hv_gateway_reconcile_drift_repaired_total\{instance="2",kind="update"\} [1-9]/);
  t.match(metrics, /hv_gateway_reconcile_drift_repaired_total\{instance="2",kind="delete-duplicate"\} [1-9]/);
  t.match(metrics, /hv_gateway_instance_up\{instance="1"\} 1/);
  t.match(metrics, /hv_gateway_instance_session_active\{instance="2"\} 1/);
  t.match(metrics, /hv_gateway_sink_ready 1/);
  t.match(metrics, /hv_gateway_reconcile_leader 1/);
  t.match(metrics, /hv_gateway_http_request_duration_seconds_count\{method="POST",route="\/v1\/reconcile",status="200"\} [1-9]/);
});

t.test('one instance down: the other converges; the down one shows an error and converges when back', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { HV_REQUEST_TIMEOUT_MS: '1000', HV_MAX_RETRIES: '0', RECONCILE_INTERVAL_MS: '2000' });
  sim.instance('2').setFaults({ down: true });
  await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] });
  await eventually('US converges', () => ours(sim, '1'), (l) => l.length === 1, 10_000);
  const status = await eventually('EU reports an error', () => gw.admin('GET', '/v1/subscriptions/weight'), (r) => r.json.status.find((s: { instanceId: string }) => s.instanceId === '2')?.state === 'error');
  const eu = status.json.status.find((s: { instanceId: string }) => s.instanceId === '2');
  t.match(eu.lastError, /./, `the error says why: ${eu.lastError}`);
  // each instance's pass records its own observation: US's may land after EU's error (slower writes over SASL_SSL showed it)
  await eventually('US in sync', () => gw.admin('GET', '/v1/subscriptions/weight'), (r) => r.json.status.find((s: { instanceId: string }) => s.instanceId === '1')?.state === 'in-sync');
  sim.instance('2').setFaults({ down: false });
  await eventually('EU converges after it returns', () => ours(sim, '2'), (l) => l.length === 1, 20_000);
  await eventually('in sync everywhere', () => gw.admin('GET', '/v1/consistency'), (r) => r.json.consistent === true, 20_000);
});

t.test('a restart re-creates nothing and keeps the state', async (t) => {
  const sim = await startSim(t);
  const first = await startGateway(t, sim);
  await first.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  await first.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT], instances: ['2'] });
  await eventually('converged', () => first.admin('GET', '/v1/consistency'), (r) => r.json.consistent === true && r.json.summary['in-sync'] === 3);
  const before = ['1', '2'].map((id) => ours(sim, id).map((s) => `${s.id}@${s.updatedAt}`).sort());
  const calls = () => ['1', '2'].map((id) => { const r = sim.instance(id).stats().requests; return ['SubscribeToEvent', 'UpdateEventSubscription', 'UnsubscribeToEvent'].map((m) => Object.values(r[m] ?? {}).reduce((a, b) => a + b, 0)); });
  const callsBefore = calls();
  await first.app.close();
  const second = await startGateway(t, sim, { KAFKA_TOPIC: first.topic, KAFKA_STATE_TOPIC: first.stateTopic });
  const list = await second.admin('GET', '/v1/subscriptions');
  t.same(list.json.items.map((s: { name: string }) => s.name), ['glucose', 'weight'], 'desired state survived the restart');
  const run = await eventually('a pass after the restart', () => second.admin('POST', '/v1/reconcile'), (r) => r.status === 200);
  t.ok(run.json.results.every((r: { applied: number; plan: unknown[] }) => r.applied === 0 && r.plan.length === 0), 'nothing to do');
  t.same(['1', '2'].map((id) => ours(sim, id).map((s) => `${s.id}@${s.updatedAt}`).sort()), before, 'same subscriptions, untouched');
  t.same(calls(), callsBefore, 'no subscribe/update/unsubscribe call after the restart');
});

t.test('two replicas: exactly one reconciles; when it stops the other takes over; no duplicates', async (t) => {
  const sim = await startSim(t);
  const a = await startGateway(t, sim);
  const b = await startGateway(t, sim, { KAFKA_TOPIC: a.topic, KAFKA_STATE_TOPIC: a.stateTopic });
  const leaders = await eventually('one leader', async () => [a.app.subscriptions.leadership.isLeader(), b.app.subscriptions.leadership.isLeader()], (l) => l.filter(Boolean).length === 1);
  const [leader, follower] = leaders[0] ? [a, b] : [b, a];
  // a write through the follower is reconciled by the leader
  t.equal((await follower.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] })).status, 201);
  for (const id of ['1', '2']) await eventually(`created in ${id}`, () => ours(sim, id), (l) => l.length === 1);
  const viaFollower = await follower.admin('POST', '/v1/reconcile');
  t.same([viaFollower.status, viaFollower.json.requested], [202, true], 'the follower forwards the request through the store');
  await leader.app.close();
  await eventually('the follower takes over', () => follower.app.subscriptions.leadership.isLeader(), (v) => v, 30_000);
  t.equal((await follower.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] })).status, 201);
  for (const id of ['1', '2']) await eventually(`weight in ${id}`, () => ours(sim, id), (l) => l.length === 2);
  for (const id of ['1', '2']) {
    const urls = ours(sim, id).map((s) => s.url);
    t.equal(new Set(urls).size, urls.length, `no duplicate subscription in instance ${id}`);
  }
});

t.test('a subscription that vanishes between listing and deleting counts as deleted', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { RECONCILE_CONCURRENCY: '1' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  await eventually('created', () => ours(sim, '1'), (l) => l.length === 1);
  // a duplicate that the platform answers 132 for when we delete it: it is listed, then gone
  const us1 = sim.instance('1');
  const dup = us1.createSubscription({ appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: ours(sim, '1')[0]!.url, keyVersionId: 'x9', typeIds: [[WEIGHT]] });
  us1.setFaults({ slowMs: 300 });
  const run = gw.admin('POST', '/v1/reconcile');
  await new Promise((r) => setTimeout(r, 450)); // the listing is answered; the unsubscribe is on its way
  us1.deleteSubscription(dup.id);
  const res = await run;
  us1.setFaults({ slowMs: 0 });
  const us = res.json.results.find((r: { instanceId: string }) => r.instanceId === '1');
  t.same([us.ok, us.error], [true, null], 'the pass succeeded');
  t.equal(ours(sim, '1').length, 1);
});
