// The registry against the real simulator: discovery, a new instance after refresh, a failed refresh
// keeping the last good view, the refresh timer, explicit lists, identity checks, filters.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { instancesReadiness } from '../../src/instances/readiness.ts';
import { discoverySettings, platformUrl, registry, settings, simCount, startSim } from './helpers.ts';

t.test('discovery finds both simulated instances and verifies each one', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  t.equal(await r.refresh(), true);
  t.same(r.instanceIds(), ['1', '2']);
  const topo = r.topology();
  t.equal(topo.mode, 'discovery');
  t.equal(topo.defaultInstanceId, '1', 'the instance at HV_DISCOVERY_URL is the default');
  t.equal(topo.updatedDate, sim.topology.updatedAt.toISOString(), 'updated-date of the answer kept for the next refresh');
  t.equal(topo.lastRefreshError, null);
  const list = r.instances();
  t.same(list.map((i) => [i.id, i.name, i.platformUrl, i.identity, i.reachable, i.session.state]), [
    ['1', 'US', platformUrl(sim, '1'), 'verified', true, 'active'],
    ['2', 'EU', platformUrl(sim, '2'), 'verified', true, 'active'],
  ]);
  t.equal(r.platform('2')?.instanceId, '2');
  t.equal(r.platform('9'), undefined);
  t.same(instancesReadiness(r), { ok: true, detail: 'ok', problems: [] });
});

t.test('a third instance added to the simulator appears after the next refresh', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  let changes = 0;
  const off = r.onChange(() => changes++);
  await r.refresh();
  t.equal(changes, 0, 'an unchanged topology (not-modified answer) is no change');
  t.same(r.instanceIds(), ['1', '2'], 'the view survives a not-modified answer');

  const added = await sim.addInstance({ name: 'APAC' });
  t.same(r.instanceIds(), ['1', '2'], 'nothing changes before the refresh');
  await r.refresh();
  t.same(r.instanceIds(), ['1', '2', added.id]);
  t.equal(changes, 1, 'listeners are told once');
  const third = r.instances().find((i) => i.id === added.id);
  t.equal(third?.name, 'APAC');
  t.equal(third?.identity, 'verified', 'the new platform confirmed its own id');
  t.same(await r.platform(added.id)!.listSubscriptions(), [], 'and it is usable');
  off();
  await sim.addInstance({ name: 'LATAM' });
  await r.refresh();
  t.equal(changes, 1, 'an unsubscribed listener is not called');
  t.equal(r.instanceIds().length, 4);
});

t.test('a failed refresh keeps the last good view and says so', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  const goodAt = r.topology().lastRefreshOkAt;
  sim.instance('1').setFaults({ down: true });
  t.equal(await r.refresh(), false);
  t.same(r.instanceIds(), ['1', '2'], 'last good view kept');
  const topo = r.topology();
  t.equal(topo.lastRefreshOkAt, goodAt);
  t.not(topo.lastRefreshAt, goodAt, 'the failed attempt is dated');
  t.equal(topo.lastRefreshError?.code, 'HVG_ERR_INSTANCE_UNREACHABLE');
  t.equal(topo.lastRefreshError?.retriable, true);
  t.match(topo.lastRefreshError?.message, `topology discovery from ${platformUrl(sim, '1')} failed`);
  t.same(await r.platform('2')!.listSubscriptions(), [], 'the other instance keeps working');
  t.equal(r.instances().find((i) => i.id === '1')?.reachable, false);
  t.ok(instancesReadiness(r).ok, 'a stale view and a down instance are not readiness problems');

  sim.instance('1').setFaults({ down: false });
  t.equal(await r.refresh(), true);
  t.equal(r.topology().lastRefreshError, null, 'cleared by the next good refresh');
  t.equal(r.instances().find((i) => i.id === '1')?.reachable, true);
});

t.test('without any good view: readiness says why, SelectInstance refuses, a later refresh recovers', async (t) => {
  const sim = await startSim(t);
  sim.instance('1').setFaults({ down: true });
  const r = registry(t, discoverySettings(sim));
  t.equal(await r.refresh(), false);
  t.same(r.instanceIds(), []);
  const ready = instancesReadiness(r);
  t.equal(ready.ok, false);
  t.equal(ready.problems[0]?.code, 'HVG_ERR_TOPOLOGY_UNAVAILABLE');
  t.match(ready.detail, /has not been discovered yet/);
  await t.rejects(r.selectInstance({ country: 'DE' }), { code: 'HVG_ERR_TOPOLOGY_UNAVAILABLE', retriable: true });
  sim.instance('1').setFaults({ down: false });
  t.equal(await r.refresh(), true);
  t.same(r.instanceIds(), ['1', '2']);
  t.ok(instancesReadiness(r).ok);
});

t.test('the refresh timer re-arms itself and stops on close', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim, { HV_TOPOLOGY_REFRESH_MS: '150' }));
  await r.start();
  const added = await sim.addInstance();
  const deadline = Date.now() + 5_000;
  while (!r.instanceIds().includes(added.id) && Date.now() < deadline) await sleep(25);
  t.ok(r.instanceIds().includes(added.id), 'found by a timed refresh');
  await r.close();
  const before = simCount(sim, '1', 'GetServiceDefinition');
  await sleep(400);
  t.equal(simCount(sim, '1', 'GetServiceDefinition'), before, 'no refresh after close');
  t.same(r.instanceIds(), []);
});

t.test('explicit list: a platform that is another instance is an error on that instance', async (t) => {
  const sim = await startSim(t);
  const list = [
    { id: '1', name: 'US', platformUrl: platformUrl(sim, '1'), shellUrl: 'https://account.example/' },
    // wrong: points at the US platform
    { id: '2', name: 'EU', platformUrl: platformUrl(sim, '1'), shellUrl: 'https://account.example.eu/' },
  ];
  const r = registry(t, settings({ HV_INSTANCES: JSON.stringify(list) }));
  t.same(r.instanceIds(), ['1', '2'], 'known before any network call');
  await r.refresh();
  const eu = r.instances().find((i) => i.id === '2')!;
  t.equal(eu.identity, 'mismatch');
  t.equal(eu.lastError?.code, 'HVG_ERR_INSTANCE_MISMATCH');
  t.match(eu.lastError?.message, 'instance "2" (EU): the platform at');
  t.match(eu.lastError?.message, 'says it is instance "1"');
  const ready = instancesReadiness(r);
  t.equal(ready.ok, false);
  t.same(ready.problems.map((p) => [p.instanceId, p.code]), [['2', 'HVG_ERR_INSTANCE_MISMATCH']]);
  const before = simCount(sim, '1', 'GetEventSubscriptions');
  await t.rejects(r.platform('2')!.listSubscriptions(), { code: 'HVG_ERR_INSTANCE_MISMATCH', retriable: false });
  t.equal(simCount(sim, '1', 'GetEventSubscriptions'), before, 'nothing was sent to the wrong instance');
  t.same(await r.platform('1')!.listSubscriptions(), [], 'the correct instance works');
  t.equal(r.topology().defaultInstanceId, '1', 'first listed is the default');
});

t.test('single-instance mode and a filter that leaves out the default instance', async (t) => {
  const sim = await startSim(t);
  const single = registry(t, discoverySettings(sim, { HV_INSTANCE_FILTER: 'default' }));
  await single.refresh();
  t.same(single.instanceIds(), ['1']);

  const onlyEu = registry(t, discoverySettings(sim, { HV_INSTANCE_FILTER: '2,7' }));
  await onlyEu.refresh();
  t.same(onlyEu.instanceIds(), ['2'], 'ids the topology does not list are ignored');
  t.same(onlyEu.instances().map((i) => [i.id, i.supported, i.isDefault]), [['1', false, true], ['2', true, false]]);
  t.equal(onlyEu.platform('1'), undefined, 'not a platform for the reconciler');
  t.equal((await onlyEu.selectInstance({ country: 'DE' }))?.id, '2', 'SelectInstance still goes through the default instance');
});
