// The plugin and the REST routes in a small Fastify app on port 0 with the app's real error
// handler, against the real simulator.
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config/index.ts';
import { instancesReadiness } from '../../src/instances/readiness.ts';
import type { InstanceSettings } from '../../src/config/instances.ts';
import errorHandler from '../../src/plugins/error-handler.ts';
import type { Gateway } from '../../src/plugins/gateway.ts';
import instancesPlugin from '../../src/plugins/instances.ts';
import instancesRoutes from '../../src/routes/instances.ts';
import { requiredEnv } from '../helpers/env.ts';
import { discoverySettings, logger, otherCertificate, platformUrl, startSim } from './helpers.ts';

async function startGateway(t: Test, settings: InstanceSettings, wait = true): Promise<{ app: Gateway; get: (path: string) => Promise<{ status: number; body: any; retryAfter: string | null }> }> {
  const app = Fastify({ loggerInstance: logger });
  await app.register(errorHandler, { retryAfterSeconds: 5, bodyLimitBytes: 65_536 });
  await app.register(instancesPlugin, { settings, waitForFirstRefresh: wait, refusalHoldMs: 60_000 });
  await app.register(instancesRoutes);
  t.teardown(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
  };
  return { app, get };
}

t.test('GET /v1/instances lists both instances with reachability, identity and session', async (t) => {
  const sim = await startSim(t);
  const { get } = await startGateway(t, discoverySettings(sim));
  const { status, body } = await get('/v1/instances');
  t.equal(status, 200);
  t.equal(body.topology.mode, 'discovery');
  t.equal(body.topology.defaultInstanceId, '1');
  t.equal(body.topology.lastRefreshError, null);
  t.same(body.instances.map((i: any) => [i.id, i.name, i.platformUrl, i.reachable, i.identity, i.session.state, i.lastError, i.supported]), [
    ['1', 'US', platformUrl(sim, '1'), true, 'verified', 'active', null, true],
    ['2', 'EU', platformUrl(sim, '2'), true, 'verified', 'active', null, true],
  ]);
  t.match(body.instances[1].shellUrl, /^http:\/\/127\.0\.0\.1:\d+\/shell\/$/);
  t.match(body.instances[1].session.expiresAt, /^\d{4}-\d{2}-\d{2}T/);
});

t.test('GET /v1/instances/select: SelectInstance through the default instance', async (t) => {
  const sim = await startSim(t);
  const { get } = await startGateway(t, discoverySettings(sim));
  const de = await get('/v1/instances/select?country=DE');
  t.equal(de.status, 200);
  t.same(de.body, {
    country: 'DE', supported: true,
    instance: { id: '2', name: 'EU', description: 'Simulated EU instance', platformUrl: platformUrl(sim, '2'), shellUrl: sim.instance('2').info.shellUrl },
  });
  const us = await get('/v1/instances/select?country=us&stateProvince=us-wa');
  t.same([us.status, us.body.country, us.body.instance.id], [200, 'US', '1'], 'case is normalised');

  for (const q of ['country=DEU', 'country=D1', 'country=', '', 'country=DE&stateProvince=Bavaria']) {
    const bad = await get(`/v1/instances/select?${q}`);
    t.same([bad.status, bad.body.code], [400, 'HVG_ERR_INVALID_COUNTRY'], `"${q}" is malformed`);
  }
  const none = await get('/v1/instances/select?country=AQ');
  t.same([none.status, none.body.code], [404, 'HVG_ERR_NO_INSTANCE_FOR_COUNTRY']);
  t.match(none.body.message, 'AQ');

  sim.instance('1').setFaults({ down: true });
  const down = await get('/v1/instances/select?country=DE');
  t.same([down.status, down.body.code, down.retryAfter], [503, 'HVG_ERR_INSTANCE_UNREACHABLE', '5'], 'the default instance being down is a retriable 503, with Retry-After');
  t.match(down.body.message, /^instance "1" \(US\)/);
});

t.test('a wrong certificate is visible in /v1/instances and in readiness, naming instance and status', async (t) => {
  const sim = await startSim(t);
  const wrong = await otherCertificate();
  const { app, get } = await startGateway(t, discoverySettings(sim, { HV_APP_CERT: wrong.cert, HV_APP_PRIVATE_KEY: wrong.key }));
  const { body } = await get('/v1/instances');
  for (const i of body.instances) {
    t.equal(i.session.state, 'failed', `instance ${i.id}`);
    t.equal(i.reachable, true);
    for (const e of [i.session.lastError, i.lastError]) {
      t.same([e.code, e.hvStatus, e.retriable], ['HVG_ERR_INSTANCE_AUTH', 4, false]);
      t.match(e.message, new RegExp(`^instance "${i.id}" \\((US|EU)\\) refused the application credential .*HealthVault status 4 BAD_SIG`));
    }
  }
  const ready = instancesReadiness(app.instances);
  t.equal(ready.ok, false);
  t.match(ready.detail, /HVG_ERR_INSTANCE_AUTH: instance "1" \(US\) refused the application credential .*status 4 BAD_SIG.*; HVG_ERR_INSTANCE_AUTH: instance "2" \(EU\)/);
  const select = await get('/v1/instances/select?country=DE');
  t.same([select.status, select.body.code, select.retryAfter], [502, 'HVG_ERR_INSTANCE_AUTH', null], 'SelectInstance needs the session (not retriable: no Retry-After)');
});

t.test('the plugin: settings checked (once, by loadConfig), boot does not wait for HealthVault, onClose closes everything', async (t) => {
  const sim = await startSim(t);
  const explicitAndDiscovery = requiredEnv({ HV_DISCOVERY_URL: platformUrl(sim, '1'), HV_INSTANCES: JSON.stringify([{ id: '1', name: 'US', platformUrl: platformUrl(sim, '1'), shellUrl: 'https://s/' }]) });
  t.throws(() => loadConfig(explicitAndDiscovery), { code: 'HVG_ERR_CONFIG', message: /HV_INSTANCES and HV_DISCOVERY_URL are both set/ });

  sim.instance('1').setFaults({ slowMs: 2_000 });
  const t0 = performance.now();
  const { app, get } = await startGateway(t, discoverySettings(sim, { HV_REQUEST_TIMEOUT_MS: '4000' }), false);
  t.ok(performance.now() - t0 < 1_500, 'listening before discovery answered');
  t.same((await get('/v1/instances')).body.instances, [], 'nothing known yet');
  t.equal(instancesReadiness(app.instances).problems[0]?.code, 'HVG_ERR_TOPOLOGY_UNAVAILABLE');
  const deadline = Date.now() + 8_000;
  while (app.instances.instanceIds().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  t.same(app.instances.instanceIds(), ['1', '2'], 'discovered in the background');
  await app.close();
  t.same(app.instances.instanceIds(), [], 'registry closed with the app');
  t.equal(await app.instances.refresh(), false, 'a closed registry does not refresh');
});
