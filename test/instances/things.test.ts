// HvInstance.getThings against the real simulator over sockets (healthvault-protocol.md §4.6):
// the instance decides where things are read, batching over the group limit, 124 splits and
// unprocessed follow-ups, session renewal, and which failures a retry can fix.
import t from 'tap';
import type { Test } from 'tap';
import { Limiter } from '../../src/instances/things.ts';
import type { HvInstance } from '../../src/instances/instance.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { APP_ID, CAST, discoverySettings, registry, simCount, startSim, GLUCOSE, WEIGHT } from './helpers.ts';

const GT = 'GetThings';
const PERSON = '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01';
const RECORD = '9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d';
const data = (v: string) => `<weight><value><kg>${v}</kg></value></weight><common/>`;

async function setup(t: Test, simConfig = {}, env: Record<string, string> = {}): Promise<{ sim: Simulator; get: (id: string) => HvInstance }> {
  const sim = await startSim(t, simConfig);
  const r = registry(t, discoverySettings(sim, env));
  await r.refresh();
  return { sim, get: (id) => r.platform(id) ?? t.fail(`no instance ${id}`) as never };
}

t.test('each instance answers from its own store: same record id, different data; deleted → missing', async (t) => {
  const { sim, get } = await setup(t);
  const thingId = '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b';
  const other = '2a3b4c5d-6e7f-4081-9203-a4b5c6d7e8f9';
  for (const [id, kg] of [['1', '70'], ['2', '80']] as const) {
    const inst = sim.instance(id);
    inst.createPerson({ personId: PERSON, recordId: RECORD });
    inst.addThing(RECORD, WEIGHT, { thingId, data: data(kg), effectiveDate: '2019-01-15T07:55:00' });
  }
  const deleted = sim.instance('1').addThing(RECORD, GLUCOSE, { thingId: other });
  sim.instance('1').deleteThing(deleted.thingId);

  const query = { personId: PERSON.toUpperCase(), recordId: RECORD, thingIds: [thingId.toUpperCase(), other, thingId] };
  const us = await get('1').getThings(query);
  const eu = await get('2').getThings(query);
  t.same(us.missing, [other], 'deleted (US) and never there (EU) are both just missing');
  t.same(eu.missing, [other]);
  t.match(us.things, [{ thingId, typeId: WEIGHT, typeName: 'Weight', state: 'Active', flags: 0, effectiveDate: '2019-01-15T07:55:00', dataXml: `<data-xml>${data('70')}</data-xml>` }]);
  t.match(eu.things, [{ thingId, dataXml: `<data-xml>${data('80')}</data-xml>` }], 'the EU instance answers with the EU data');
  t.equal(us.things[0]?.versionStamp, sim.instance('1').records.getThing(thingId)?.versionStamp);
  t.equal(simCount(sim, '1', GT, '0'), 1, 'one request for three ids (one duplicate)');
  t.same(await get('1').getThings({ personId: PERSON, recordId: RECORD, thingIds: [] }), { things: [], missing: [] });
  t.equal(simCount(sim, '1', GT), 1, 'no ids, no request');
});

t.test('batching over HV_THINGS_BATCH_SIZE, 124 splits, unprocessed keys fetched again', async (t) => {
  const { sim, get } = await setup(t, { getThingsMaxIds: 2, getThingsMaxFullThings: 1 }, { HV_THINGS_BATCH_SIZE: '4' });
  const us = sim.instance('1');
  us.createPerson({ personId: PERSON, recordId: RECORD });
  const ids = Array.from({ length: 7 }, (_, i) => us.addThing(RECORD, WEIGHT, { effectiveDate: `2019-01-0${i + 1}T00:00:00` }).thingId);
  const answer = await get('1').getThings({ personId: PERSON, recordId: RECORD, thingIds: ids });
  t.same(answer.things.map((x) => x.thingId), ids, 'every thing, in the order asked');
  t.same(answer.missing, []);
  t.ok(simCount(sim, '1', GT, '124') >= 1, 'the platform refused a batch of 4 (limit 2) and it was split');
  t.ok(simCount(sim, '1', GT, '0') >= 7, 'one full thing per answer: the rest came as unprocessed keys and were asked again');
});

t.test('session: expiry and a forgotten session (8 quirk) renew once, invisible to the caller', async (t) => {
  const { sim, get } = await setup(t);
  const eu = sim.instance('2');
  eu.createPerson({ personId: PERSON, recordId: RECORD });
  const thing = eu.addThing(RECORD, WEIGHT);
  const q = { personId: PERSON, recordId: RECORD, thingIds: [thing.thingId] };
  t.equal((await get('2').getThings(q)).things.length, 1);
  eu.expireTokens();
  t.equal((await get('2').getThings(q)).things.length, 1, 'after expiry');
  eu.setQuirks({ unknownTokenStatus: 8 });
  eu.forgetSessions();
  t.equal((await get('2').getThings(q)).things.length, 1, 'after the instance forgot the session');
  t.equal(simCount(sim, '2', GT, '65'), 1);
  t.equal(simCount(sim, '2', GT, '8'), 1);
  t.equal(simCount(sim, '2', CAST, '0'), 3, 'one CAST at start, one per renewal');
});

t.test('what a retry cannot fix is not retriable; 5xx and timeouts are', async (t) => {
  const { sim, get } = await setup(t, {}, { HV_REQUEST_TIMEOUT_MS: '300', HV_MAX_RETRIES: '1' });
  const us = sim.instance('1');
  us.createPerson({ personId: PERSON, recordId: RECORD, offlineAccess: false });
  const thing = us.addThing(RECORD, WEIGHT);
  const q = { personId: PERSON, recordId: RECORD, thingIds: [thing.thingId] };
  const inst = get('1');
  await t.rejects(inst.getThings(q), { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 11, instanceId: '1' }, message: /^instance "1" \(US\): HealthVault status 11 ACCESS_DENIED/ },
    'offline access never granted');
  us.grantOfflineAccess(PERSON, APP_ID);
  t.equal((await inst.getThings(q)).things.length, 1, 'granted');
  us.revokeOfflineAccess(PERSON, APP_ID);
  await t.rejects(inst.getThings(q), { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 11 } }, 'revoked');
  await t.rejects(inst.getThings({ ...q, personId: '00000000-0000-4000-8000-000000000009' }), { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 9 } }, 'person gone');
  await t.rejects(inst.getThings({ ...q, recordId: '00000000-0000-4000-8000-000000000010' }), { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 10 } }, 'record gone');
  t.equal(inst.status().lastError, null, "one person's refusal is not the instance's error");
  us.grantOfflineAccess(PERSON, APP_ID);

  us.setFaults({ platform5xx: true });
  await t.rejects(inst.getThings(q), { code: 'HVG_ERR_INSTANCE_UNAVAILABLE', retriable: true }, '5xx');
  us.setFaults({ platform5xx: false, slowMs: 1500 });
  await t.rejects(inst.getThings(q), { code: 'HVG_ERR_INSTANCE_UNREACHABLE', retriable: true }, 'timeout');
  us.setFaults({ slowMs: 0 });
  t.equal((await inst.getThings(q)).things.length, 1, 'fine again');
  t.equal((await inst.getThings({ ...q, typeVersionFormats: [WEIGHT, GLUCOSE] })).things.length, 1, 'with type-version-format');

  const before = simCount(sim, '1', GT);
  await t.rejects(inst.getThings({ ...q, thingIds: ['not-a-guid'] }), { code: 'HVG_ERR_VALIDATION' });
  await t.rejects(inst.getThings({ ...q, personId: 'x' }), { code: 'HVG_ERR_VALIDATION' });
  await t.rejects(inst.getThings({ ...q, typeVersionFormats: ['weight'] }), { code: 'HVG_ERR_VALIDATION' });
  t.equal(simCount(sim, '1', GT), before, 'bad queries send nothing');
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await t.rejects(inst.getThings(q, ac.signal), { message: 'stop' });
});

t.test('Limiter: at most N run, the rest wait in order; an aborted waiter leaves the queue', async (t) => {
  const limiter = new Limiter(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const job = (n: number) => limiter.run(async () => {
    active += 1;
    peak = Math.max(peak, active);
    await new Promise<void>((resolve) => gates.push(resolve));
    order.push(n);
    active -= 1;
    return n;
  });
  const ac = new AbortController();
  const runs = [job(1), job(2), job(3), limiter.run(async () => 99, ac.signal), job(5)];
  await new Promise((r) => setImmediate(r));
  t.equal(gates.length, 2, 'two started');
  t.equal(limiter.waiting, 3);
  ac.abort(new Error('gone'));
  await t.rejects(runs[3] as Promise<number>, { message: 'gone' });
  t.equal(limiter.waiting, 2, 'the aborted waiter left the queue');
  while (order.length < 4) {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  t.same(await Promise.all([runs[0], runs[1], runs[2], runs[4]]), [1, 2, 3, 5]);
  t.equal(peak, 2, 'never more than two at once');
  t.same(order, [1, 2, 3, 5]);
});
