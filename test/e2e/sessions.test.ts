// Issue 13 point 1: a platform that forgets our session (restart, failover) answers 8 INVALID_TOKEN
// (the strict implementation did; quirk unknownTokenStatus). The gateway renews once — one CAST per
// instance however many calls saw the dead token — and /v1/instances, /readyz and /metrics show
// the session as it really is.
import t from 'tap';
import { ADMIN_TOKEN } from '../helpers/env.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

const CAST = 'CreateAuthenticatedSessionToken';
const metricsText = async (adminUrl: string) => (await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();

t.test('a forgotten session (status 8) is renewed once and the instance keeps converging', async (t) => {
  const sim = await startSim(t, { quirks: { unknownTokenStatus: 8 } });
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  for (const id of ['1', '2']) await eventually(`glucose in ${id}`, () => ours(sim, id), (l) => l.length === 1);
  const castsBefore = Object.values(sim.instance('2').stats().requests[CAST] ?? {}).reduce((a, b) => a + b, 0);

  t.ok(sim.instance('2').forgetSessions() >= 1, 'EU forgot the session it had issued');
  // several calls in one pass meet the dead token: three subscriptions to create at once
  await Promise.all(['weight-a', 'weight-b', 'weight-c'].map((name) => gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds: [WEIGHT] })));
  await eventually('all four in EU', () => ours(sim, '2'), (l) => l.length === 4, 15_000);
  const run = await gw.admin('POST', '/v1/reconcile');
  t.ok(run.json.results.every((r: { ok: boolean }) => r.ok), 'passes succeed in both instances');

  const stats = sim.instance('2').stats().requests;
  t.ok((Object.entries(stats).reduce((n, [, byStatus]) => n + (byStatus['8'] ?? 0), 0)) >= 1, 'EU did answer 8');
  const castsAfter = Object.values(stats[CAST] ?? {}).reduce((a, b) => a + b, 0);
  t.equal(castsAfter - castsBefore, 1, 'exactly one new CAST in EU');
  const inst = (await gw.admin('GET', '/v1/instances')).json.instances.find((i: { id: string }) => i.id === '2');
  t.equal(inst.session.state, 'active');
  t.equal(inst.session.rejections, 1, 'one rejection, one renewal');
  t.equal(((await (await fetch(`${gw.url}/readyz`)).json()) as { warnings: { instances: string } }).warnings.instances, 'ok');
  t.match(await metricsText(gw.adminUrl), /hv_gateway_instance_session_rejections\{instance="2"\} 1/);
});

t.test('a platform that refuses even a fresh token: the session shows "rejected" in /v1/instances, /readyz and /metrics', async (t) => {
  // every token the simulator issues is already expired when it is used: 65 before and after renewal
  const sim = await startSim(t, { tokenTtlSeconds: 0.001 });
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  const inst = await eventually('session rejected in US', async () => (await gw.admin('GET', '/v1/instances')).json.instances.find((i: { id: string }) => i.id === '1'), (i) => i?.session.state === 'rejected');
  t.equal(inst.session.lastError.hvStatus, 65, 'with the status the platform answered');
  const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { warnings: { instances: string } };
  t.match(ready.warnings.instances, /instance "1".*65/, '/readyz names the instance and the status');
  t.match(await metricsText(gw.adminUrl), /hv_gateway_instance_session_active\{instance="1"\} 0/);
});
