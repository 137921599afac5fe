// GetServiceDefinition v2 topology and SelectInstance v1 across instances (healthvault-protocol.md §3).
import t from 'tap';
import { request } from 'undici';
import {
  buildGetServiceDefinitionInfo, buildSelectInstanceInfo, parseGetServiceDefinitionResponse, parseSelectInstanceResponse,
} from '../../src/healthvault/index.ts';
import type { ServiceDefinition } from '../../src/healthvault/index.ts';
import { anonymous, call, cast, client, platform, startSim } from './helpers.ts';

t.test('each instance lists every instance and names itself current', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  t.same(sim.instances.map((i) => [i.id, i.name]), [['1', 'US'], ['2', 'EU']], 'default US "1" and EU "2"');
  const defs: ServiceDefinition[] = [];
  for (const inst of sim.instances) {
    const answer = await platform(t, agent, inst.platformUrl, anonymous('GetServiceDefinition', 2, buildGetServiceDefinitionInfo({ sections: ['topology'] })));
    const def = parseGetServiceDefinitionResponse(answer);
    if (!def.modified) throw new Error('expected a definition');
    t.equal(def.currentInstanceId, inst.id, `instance ${inst.id} names itself`);
    defs.push(def);
  }
  t.same(defs[0]?.instances, defs[1]?.instances, 'same topology everywhere');
  t.same(defs[0]?.instances?.map((i) => i.platformUrl), sim.instances.map((i) => i.platformUrl));
  t.equal(defs[0]?.updatedDate, sim.topology.updatedAt.toISOString());
  t.ok(sim.instances.every((i) => i.platformUrl === `http://127.0.0.1:${i.port}/platform/wildcat.ashx`));
});

t.test('updated-date: empty answer when nothing changed, full answer after addInstance', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('2').info.platformUrl;
  const first = parseGetServiceDefinitionResponse(await platform(t, agent, url, anonymous('GetServiceDefinition', 2, '<info/>')));
  if (!first.modified || first.updatedDate === undefined) throw new Error('expected a dated definition');
  const again = await platform(t, agent, url, anonymous('GetServiceDefinition', 2, buildGetServiceDefinitionInfo({ updatedDate: first.updatedDate })));
  t.same(parseGetServiceDefinitionResponse(again), { modified: false }, 'not modified');
  t.equal(again.info?.children.length, 0, 'an info without children');

  const added = await sim.addInstance({ name: 'APAC' });
  t.equal(added.id, '3', 'ids continue the numbering');
  for (const inst of sim.instances) {
    const answer = await platform(t, agent, inst.platformUrl, anonymous('GetServiceDefinition', 2, buildGetServiceDefinitionInfo({ updatedDate: first.updatedDate })));
    const def = parseGetServiceDefinitionResponse(answer);
    if (!def.modified) throw new Error(`instance ${inst.id} said not modified`);
    t.same(def.instances?.map((i) => i.id), ['1', '2', '3'], `instance ${inst.id} lists the new one`);
    t.equal(def.currentInstanceId, inst.id);
    t.ok(Date.parse(def.updatedDate ?? '') > Date.parse(first.updatedDate), 'updated-date moved forward');
  }

  const res = await request(`${sim.controlUrl}/_sim/instances`, { dispatcher: agent, method: 'POST', body: JSON.stringify({ id: 'ap', name: 'Asia' }), headers: { 'content-type': 'application/json' } });
  t.equal(res.statusCode, 201, 'control API adds one too');
  const view = await res.body.json() as { id: string; platformUrl: string };
  t.equal(view.id, 'ap');
  const def = parseGetServiceDefinitionResponse(await platform(t, agent, view.platformUrl, anonymous('GetServiceDefinition', 2, '<info/>')));
  t.same(def.modified && [def.currentInstanceId, def.instances?.length], ['ap', 4]);
  const dup = await request(`${sim.controlUrl}/_sim/instances`, { dispatcher: agent, method: 'POST', body: JSON.stringify({ id: 'ap' }), headers: { 'content-type': 'application/json' } });
  t.equal(dup.statusCode, 400, 'duplicate id');
  await dup.body.dump();
});

t.test('SelectInstance: US and territories → 1, other supported countries → 2, others → none', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const select = async (country: string) => parseSelectInstanceResponse(await call(t, agent, s, 'SelectInstance', 1, buildSelectInstanceInfo({ country })))?.id;
  for (const c of ['US', 'PR', 'GU', 'VI', 'AS', 'MP', 'UM', 'us']) t.equal(await select(c), '1', c);
  for (const c of ['GB', 'DE', 'FR', 'CH', 'NO']) t.equal(await select(c), '2', c);
  for (const c of ['JP', 'BR', 'ZZ']) t.equal(await select(c), undefined, `${c}: no selected-instance`);
  const selected = parseSelectInstanceResponse(await call(t, agent, s, 'SelectInstance', 1, buildSelectInstanceInfo({ country: 'DE' })));
  t.same(selected, sim.topology.get('2'), 'the whole instance element');
});

t.test('SelectInstance mapping is configurable', async (t) => {
  const sim = await startSim(t, { countryInstances: { JP: '2', US: '9' } });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('2').info.platformUrl);
  const select = async (country: string) => parseSelectInstanceResponse(await call(t, agent, s, 'SelectInstance', 1, buildSelectInstanceInfo({ country })))?.id;
  t.equal(await select('JP'), '2');
  t.equal(await select('US'), undefined, 'mapped to an instance that does not run → none');
  t.equal(await select('DE'), undefined, 'the default list is replaced');
});
