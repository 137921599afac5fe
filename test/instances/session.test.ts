// The app session against the real simulator (healthvault-protocol.md §4.4): expiry is invisible
// to callers, concurrent callers share one CAST, renewal ahead of expiry, a refused certificate.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { HvgError } from '../../src/errors.ts';
import { instancesReadiness } from '../../src/instances/readiness.ts';
import { APP_ID, CAST, APP_CERT_PEM, discoverySettings, otherCertificate, registry, settings, simCount, startSim } from './helpers.ts';

const LIST = 'GetEventSubscriptions';

t.test('token expiry in the middle of a run is invisible to callers (65 → re-auth → success)', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  for (const id of ['1', '2']) t.same(await r.platform(id)!.listSubscriptions(), []);
  for (const id of ['1', '2']) t.ok(sim.instance(id).expireTokens() >= 1, `instance ${id} expired its tokens`);
  for (const id of ['1', '2']) t.same(await r.platform(id)!.listSubscriptions(), [], `instance ${id}: the caller only sees success`);
  for (const id of ['1', '2']) {
    t.equal(simCount(sim, id, LIST, '65'), 1, `instance ${id} answered 65 once`);
    t.equal(simCount(sim, id, CAST, '0'), 2, `instance ${id}: one CAST at start, one after expiry`);
    t.equal(r.instances().find((i) => i.id === id)?.session.state, 'active');
  }
});

t.test('50 concurrent calls after expiry cause exactly one CAST per instance', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim, { HV_POOL_CONNECTIONS: '16' }));
  await r.refresh();
  const casts = (id: string) => ({ sim: simCount(sim, id, CAST), client: r.platform(id)!.client.requestCount(CAST) });
  const before = { '1': casts('1'), '2': casts('2') };
  t.same(before, { '1': { sim: 1, client: 1 }, '2': { sim: 1, client: 1 } }, 'one CAST each from the probe');
  sim.instance('1').expireTokens();
  sim.instance('2').expireTokens();
  const calls = ['1', '2'].flatMap((id) => Array.from({ length: 50 }, () => r.platform(id)!.listSubscriptions()));
  const results = await Promise.allSettled(calls);
  t.equal(results.filter((x) => x.status === 'fulfilled').length, 100, 'all 100 calls succeed');
  for (const id of ['1', '2'] as const) {
    t.same(casts(id), { sim: 2, client: 2 }, `instance ${id}: exactly one more CAST (counted by the simulator and at our transport)`);
    t.ok(simCount(sim, id, LIST, '65') >= 1, `instance ${id} did answer 65`);
    t.equal(r.instances().find((i) => i.id === id)?.session.casts, 2);
  }
});

t.test('concurrent first calls share one CAST and one identity check', async (t) => {
  const sim = await startSim(t);
  // explicit list: nothing is sent before the first call (no discovery, no probe)
  const list = ['1', '2'].map((id) => {
    const { name, platformUrl, shellUrl } = sim.instance(id).info;
    return { id, name, platformUrl, shellUrl };
  });
  const cold = registry(t, settings({ HV_INSTANCES: JSON.stringify(list) }));
  const results = await Promise.all(Array.from({ length: 20 }, () => cold.platform('2')!.listSubscriptions()));
  t.equal(results.length, 20);
  t.equal(simCount(sim, '2', CAST), 1, 'one CAST for 20 cold callers');
  t.equal(simCount(sim, '2', 'GetServiceDefinition'), 1, 'one identity check for 20 cold callers');
  t.equal(simCount(sim, '1', CAST), 0, 'the other instance was not touched');
});

t.test('the token is renewed in the background before its assumed expiry', async (t) => {
  const sim = await startSim(t);
  // assumed lifetime 60 s, renew 59 s before: the renewal window opens one second after CAST
  const r = registry(t, discoverySettings(sim, { HV_SESSION_TTL_SECONDS: '60', HV_SESSION_RENEW_BEFORE_SECONDS: '59' }));
  await r.refresh();
  const eu = r.platform('2')!;
  const first = r.instances().find((i) => i.id === '2')!.session.expiresAt;
  t.equal(simCount(sim, '2', CAST), 1);
  await sleep(1_100);
  await eu.listSubscriptions();
  t.equal(simCount(sim, '2', LIST, '0'), 1, 'the call did not wait for the renewal');
  const deadline = Date.now() + 3_000;
  while (simCount(sim, '2', CAST) < 2 && Date.now() < deadline) await sleep(20);
  t.equal(simCount(sim, '2', CAST), 2, 'renewed once, in the background');
  await eu.listSubscriptions();
  t.equal(simCount(sim, '2', CAST), 2, 'the renewed token is used');
  t.not(r.instances().find((i) => i.id === '2')!.session.expiresAt, first);
  t.equal(simCount(sim, '2', LIST, '65'), 0, 'no call ever met an expired token');
});

t.test('a second 65 right after re-authenticating goes to the caller as a retriable error', async (t) => {
  // every token the simulator issues is already expired when used
  const sim = await startSim(t, { tokenTtlSeconds: 0.001 });
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  // every answer waits 20 ms before the platform looks at the token: issued tokens are always stale
  sim.instance('2').setFaults({ slowMs: 20 });
  const castsBefore = simCount(sim, '2', CAST);
  const err = (await r.platform('2')!.listSubscriptions().catch((e: unknown) => e)) as HvgError;
  t.equal(err.code, 'HVG_ERR_HV_SESSION_EXPIRED');
  t.equal(err.retriable, true);
  t.match(err.message, /^instance "2" \(EU\): HealthVault status 65/);
  t.equal(err.details?.instanceId, '2');
  t.equal(simCount(sim, '2', CAST) - castsBefore, 1, 're-authenticated once, not in a loop');
  t.equal(simCount(sim, '2', LIST, '65'), 2, 'sent, 65, CAST, resent once, 65');
});

t.test('a wrong certificate gives a clear error naming the instance and the status code', async (t) => {
  const sim = await startSim(t);
  const wrong = await otherCertificate();
  const r = registry(t, discoverySettings(sim, { HV_APP_CERT: wrong.cert, HV_APP_PRIVATE_KEY: wrong.key }), 60_000);
  await r.refresh();
  t.same(r.instanceIds(), ['1', '2'], 'discovery is anonymous and still works');
  for (const i of r.instances()) {
    t.equal(i.session.state, 'failed', `instance ${i.id}: session failed`);
    t.equal(i.session.lastError?.code, 'HVG_ERR_INSTANCE_AUTH');
    t.equal(i.session.lastError?.hvStatus, 4, 'BAD_SIG from the platform');
    t.equal(i.reachable, true, 'reachable: the platform answered');
  }
  const ready = instancesReadiness(r);
  t.equal(ready.ok, false);
  t.same(ready.problems.map((p) => [p.instanceId, p.code]), [['1', 'HVG_ERR_INSTANCE_AUTH'], ['2', 'HVG_ERR_INSTANCE_AUTH']]);
  t.match(ready.detail, /instance "1" \(US\) refused the application credential .*HealthVault status 4 BAD_SIG/);
  t.match(ready.detail, /instance "2" \(EU\) refused the application credential .*HealthVault status 4 BAD_SIG/);

  const castsBefore = simCount(sim, '2', CAST);
  const err = (await r.platform('2')!.listSubscriptions().catch((e: unknown) => e)) as HvgError;
  t.equal(err.code, 'HVG_ERR_INSTANCE_AUTH');
  t.equal(err.retriable, false, 'a retry cannot help');
  t.equal(err.details?.hvStatus, 4);
  t.match(err.message, 'instance "2" (EU) refused the application credential');
  t.equal(simCount(sim, '2', CAST), castsBefore, 'a refusal is remembered: no CAST storm while it holds');
});

t.test('an app not configured in one instance is a readiness problem naming it and the status', async (t) => {
  const sim = await startSim(t, { applications: [{ appId: APP_ID, certificates: [APP_CERT_PEM], actionUrl: 'https://gw.test/hv/redirect.aspx', instances: ['1'] }] });
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  t.same(r.instanceIds(), ['1', '2']);
  const ready = instancesReadiness(r);
  t.same(ready.problems.map((p) => [p.instanceId, p.code]), [['2', 'HVG_ERR_HV_STATUS']]);
  t.match(ready.detail, /instance "2" \(EU\): HealthVault status 6 INVALID_APP/);
  t.same(await r.platform('1')!.listSubscriptions(), [], 'the other instance works');
});
