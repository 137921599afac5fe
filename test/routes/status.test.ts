// GET /v1/status: the console's one call, against the simulator and the real broker.
import t from 'tap';
import { ADMIN_TOKEN } from '../helpers/env.ts';
import { eventually, GLUCOSE, PUBLIC_BASE, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

t.test('one call: matrix, foreign subscriptions, instances, traffic; admin token; in the OpenAPI document', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT], instances: ['2'] });
  sim.instance('2').createSubscription({ appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: `${PUBLIC_BASE}/elsewhere`, keyVersionId: 'z', typeIds: [[WEIGHT]] });
  await gw.admin('POST', '/v1/reconcile');
  // the pass that makes everything in-sync may have listed instance 2 before the foreign
  // subscription was created there; the requested pass (POST /v1/reconcile) then reports it
  const s = await eventually('in sync, foreign seen', () => gw.admin('GET', '/v1/status'), (r) => r.json.consistent === true && r.json.summary['in-sync'] === 3 && r.json.summary.foreign === 1);

  t.equal(s.status, 200);
  t.same(s.json.subscriptions.map((x: { name: string; cells: { instanceId: string; state: string; keyVersion: number | null }[] }) => [x.name, x.cells.map((c) => [c.instanceId, c.state, c.keyVersion])]), [
    ['glucose', [['1', 'in-sync', 1], ['2', 'in-sync', 1]]],
    ['weight', [['1', 'not-targeted', null], ['2', 'in-sync', 1]]],
  ], 'rows = subscriptions, one cell per instance');
  t.match(s.json.subscriptions[0].cells[0], { lastSync: /^\d{4}-/, lastError: null, hvSubscriptionId: /^[0-9a-f-]{36}$/ });
  t.same(s.json.foreign.map((f: { instanceId: string; url: string }) => [f.instanceId, f.url]), [['2', `${PUBLIC_BASE}/elsewhere`]], 'foreign subscriptions apart');
  t.equal(s.json.summary.foreign, 1);
  const us = s.json.instances.find((i: { id: string }) => i.id === '1');
  t.match(us, { reachable: true, identity: 'verified', session: { state: 'active' }, reconcile: { lastPassOk: true } });
  t.type(s.json.topology.ageSeconds, 'number', 'topology age');
  t.match(s.json.gateway, { leader: true, sink: { state: 'ready' } });

  // rates come from the gateway's own counters, between two calls
  const person = sim.instance('1').createPerson();
  for (let i = 0; i < 5; i++) sim.instance('1').addThing(person.recordId, GLUCOSE);
  await eventually('delivered', () => sim.instance('1').deliveries(), (l) => l.length > 0 && l.every((b) => b.state === 'delivered'));
  await new Promise((r) => setTimeout(r, 1100)); // samples are at least a second apart
  const after = await gw.admin('GET', '/v1/status');
  const traffic = after.json.instances.find((i: { id: string }) => i.id === '1').traffic;
  t.ok(after.json.traffic.windowSeconds > 0, `a window: ${after.json.traffic.windowSeconds} s`);
  t.ok(traffic.notificationsPerSecond > 0 && traffic.producedPerSecond > 0, `rates moved: ${JSON.stringify(traffic)}`);
  t.type(traffic.produceLatencyP50Ms, 'number');
  t.ok(traffic.produceLatencyP99Ms >= traffic.produceLatencyP50Ms);
  t.same(after.json.instances.find((i: { id: string }) => i.id === '2').traffic.notificationsPerSecond, 0, 'EU sent nothing');

  const noToken = await gw.admin('GET', '/v1/status', undefined, { authorization: '' });
  t.same([noToken.status, noToken.json.code], [401, 'HVG_ERR_UNAUTHORIZED']);
  const wrong = await gw.admin('GET', '/v1/status', undefined, { authorization: `Bearer ${ADMIN_TOKEN}x` });
  t.equal(wrong.status, 401);
  const doc = await gw.admin('GET', '/openapi.json');
  t.ok(doc.json.paths['/v1/status']?.get, '/v1/status is in the OpenAPI document');
  t.ok(doc.json.paths['/v1/status'].get.responses['200'].content['application/json'].schema.properties.subscriptions, 'with its answer schema');
  t.notOk(doc.json.paths['/console'], 'the page is not an API route');
});
