// GetThings v3 with offline access over real sockets (healthvault-protocol.md §4.6): things with
// versions, types and data; deleted things absent; offline access per (person, app); the same
// record id in two instances; limits; faults; the control API that feeds it.
import t from 'tap';
import { request } from 'undici';
import type { Agent } from 'undici';
import { buildGetThingsInfo, parseGetThingsResponse, parseResponse } from '../../src/healthvault/index.ts';
import type { ParsedResponse } from '../../src/healthvault/index.ts';
import { APP_ID, call, cast, client, GLUCOSE, platform, post, signed, startSim, WEIGHT } from './helpers.ts';
import type { TestSession } from './helpers.ts';
import type { Test } from 'tap';

const BG = (mmol: string) => `<blood-glucose><when><date><y>2019</y><m>1</m><d>15</d></date></when><value><mmolPerL>${mmol}</mmolPerL></value><glucose-measurement-type><text>Whole blood</text></glucose-measurement-type></blood-glucose><common/>`;

async function control(agent: Agent, url: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url, {
    dispatcher: agent, method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, json: await res.body.json() as Record<string, unknown> };
}

/** a simulator, a client and a session in one of its instances */
async function opened(t: Test, instanceId: '1' | '2', options?: Parameters<typeof startSim>[1]) {
  const sim = await startSim(t, options);
  const agent = client(t);
  const inst = sim.instance(instanceId);
  const s = await cast(t, agent, inst.info.platformUrl);
  return { sim, agent, inst, s };
}

function getThings(t: Test, agent: Agent, s: TestSession, personId: string | undefined, recordId: string | undefined, ids: string[], info?: string): Promise<ParsedResponse> {
  return call(t, agent, s, 'GetThings', 3, info ?? buildGetThingsInfo({ thingIds: ids }), {
    ...(personId === undefined ? {} : { offlinePersonId: personId }), ...(recordId === undefined ? {} : { recordId }),
  });
}

t.test('things with versions, types and data; newest first; a deleted thing is absent', async (t) => {
  const { agent, inst: us, s } = await opened(t, '1');
  const { personId, recordId } = us.createPerson();
  const early = us.addThing(recordId, GLUCOSE, { data: BG('5.4'), effectiveDate: '2019-01-15T07:55:00' });
  const late = us.addThing(recordId, GLUCOSE, { data: BG('7.5'), effectiveDate: '2019-01-15T09:40:00' });
  const gone = us.addThing(recordId, WEIGHT);
  us.deleteThing(gone.thingId);
  const unknown = '00000000-0000-4000-8000-000000000001';

  const [group] = parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, [early.thingId, late.thingId, gone.thingId, unknown]));
  t.equal(group?.name, 'changed-things', 'the group name is echoed');
  t.same(group?.things.map((x) => x.thingId), [late.thingId, early.thingId], 'newest eff-date first; deleted and unknown ids absent');
  t.match(group?.things[1], { versionStamp: early.versionStamp, typeId: GLUCOSE, typeName: 'Blood glucose', state: 'Active', flags: 0, effectiveDate: '2019-01-15T07:55:00' });
  t.equal(group?.things[1]?.dataXml, `<data-xml>${BG('5.4')}</data-xml>`, 'data-xml carries the stored data verbatim');

  const updated = us.updateThing(early.thingId, { data: BG('6.1') });
  t.not(updated.versionStamp, early.versionStamp, 'an update makes a new version stamp');
  const [again] = parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, [early.thingId]));
  t.match(again?.things[0], { versionStamp: updated.versionStamp, dataXml: /6\.1/ }, 'the current version is returned');
  // asking for the old version by key finds nothing [I: only current versions are kept]
  const byKey = `<info><group><key version-stamp="${early.versionStamp}">${early.thingId}</key><format><section>core</section><xml/></format></group></info>`;
  t.same(parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, [], byKey))[0]?.things, []);
  const noData = `<info><group><id>${early.thingId}</id><format><section>core</section></format></group></info>`;
  t.equal(parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, [], noData))[0]?.things[0]?.dataXml, undefined, 'no <xml/>, no data-xml');
});

t.test('offline access per (person, app) and the documented statuses (§4.6.7)', async (t) => {
  const { sim, agent, inst: us, s } = await opened(t, '1');
  const base = `${sim.controlUrl}/_sim/instances/1`;
  const created = await control(agent, `${base}/people`, 'POST', { name: 'No offline', offlineAccess: false });
  t.equal(created.status, 201);
  const personId = String(created.json.personId);
  const recordId = String(created.json.recordId);
  const glucose = us.addThing(recordId, GLUCOSE);
  const weight = us.addThing(recordId, WEIGHT);
  const ids = [glucose.thingId, weight.thingId];

  const denied = await getThings(t, agent, s, personId, recordId, ids);
  t.match(denied, { code: 11, error: { message: /not authorized .* offline access/ } }, 'never granted → 11 ACCESS_DENIED');
  t.throws(() => parseGetThingsResponse(denied), { code: 'HVG_ERR_HV_STATUS', retriable: false });

  const grant = await control(agent, `${base}/people/${personId}/offline-access/${APP_ID}`, 'PUT', { typeIds: [GLUCOSE] });
  t.same(grant.json, { personId, byDefault: false, applications: { [APP_ID]: { typeIds: [GLUCOSE] } } });
  const [only] = parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, ids));
  t.same(only?.things.map((x) => x.thingId), [glucose.thingId], 'a type not granted offline is absent, not an error (§4.6.6)');
  await control(agent, `${base}/people/${personId}/offline-access/${APP_ID}`, 'PUT', {});
  t.equal(parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, ids))[0]?.things.length, 2, 'every type once granted');

  const revoked = await control(agent, `${base}/people/${personId}/offline-access/${APP_ID}`, 'DELETE');
  t.same(revoked.json.applications, { [APP_ID]: null });
  t.equal((await getThings(t, agent, s, personId, recordId, ids)).code, 11, 'revoked → 11');

  const other = us.createPerson();
  t.equal((await getThings(t, agent, s, other.personId, recordId, ids)).code, 11, "another person's record → 11");
  t.equal((await getThings(t, agent, s, '00000000-0000-4000-8000-00000000000a', recordId, ids)).code, 9, 'unknown person → 9');
  t.equal((await getThings(t, agent, s, other.personId, '00000000-0000-4000-8000-00000000000b', ids)).code, 10, 'unknown record → 10');
  t.equal((await getThings(t, agent, s, undefined, other.recordId, ids)).code, 11, 'no offline person → 11 [I]');
  t.equal((await getThings(t, agent, s, other.personId, undefined, ids)).code, 10, 'no record-id → 10 [I]');
  t.equal((await control(agent, `${base}/people/${'00000000-0000-4000-8000-00000000000c'}/offline-access/${APP_ID}`, 'DELETE')).status, 404);
});

t.test('the same record id in two instances holds different data; each answers its own', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const ids = { personId: '11111111-2222-4333-8444-555555555555', recordId: '66666666-7777-4888-8999-aaaaaaaaaaaa' };
  const thingId = 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';
  const answers: Record<string, string | undefined> = {};
  for (const [id, mmol] of [['1', '5.4'], ['2', '9.9']] as const) {
    const base = `${sim.controlUrl}/_sim/instances/${id}`;
    t.equal((await control(agent, `${base}/people`, 'POST', ids)).status, 201);
    const put = await control(agent, `${base}/records/${ids.recordId}/things`, 'POST', { typeId: GLUCOSE, thingId, data: BG(mmol), effectiveDate: '2019-01-15T07:55:00' });
    t.equal(put.json.thingId, thingId);
    const s = await cast(t, agent, sim.instance(id).info.platformUrl);
    answers[id] = parseGetThingsResponse(await getThings(t, agent, s, ids.personId, ids.recordId, [thingId]))[0]?.things[0]?.dataXml;
  }
  t.match(answers['1'], /5\.4/);
  t.match(answers['2'], /9\.9/);
  t.equal((await control(agent, `${sim.controlUrl}/_sim/instances/1/people`, 'POST', ids)).status, 400, 'ids are unique within an instance');
});

t.test('limits: 124 over the id limit, unprocessed keys past the full-thing cap (§4.6.4); bad infos', async (t) => {
  const { agent, inst: us, s } = await opened(t, '1', { getThingsMaxIds: 3, getThingsMaxFullThings: 2 });
  const { personId, recordId } = us.createPerson();
  const things = ['01', '02', '03', '04'].map((d) => us.addThing(recordId, WEIGHT, { effectiveDate: `2019-01-${d}T00:00:00` }));
  const ids = things.map((x) => x.thingId);
  t.equal((await getThings(t, agent, s, personId, recordId, ids)).code, 124, 'four ids > getThingsMaxIds 3');
  const [group] = parseGetThingsResponse(await getThings(t, agent, s, personId, recordId, ids.slice(0, 3)));
  t.same(group?.things.map((x) => x.thingId), [ids[2], ids[1]], 'two full things, newest first');
  t.same(group?.unprocessed.map((x) => x.thingId), [ids[0]], 'the rest as unprocessed-thing-key-info');
  t.match(group?.unprocessed[0], { typeId: WEIGHT, typeName: 'Weight', effectiveDate: '2019-01-01T00:00:00' });

  const fmt = '<format><section>core</section><xml/></format>';
  const one = ids[0] ?? '';
  const bad = async (info: string) => (await getThings(t, agent, s, personId, recordId, [], info)).code;
  t.equal(await bad(`<info><group><id>${one}</id><filter><type-id>${WEIGHT}</type-id></filter>${fmt}</group></info>`), 15, 'filters → 15 [I]');
  t.equal(await bad(`<info><group><id>${one}</id><format><xml>transform</xml></format></group></info>`), 16, 'transforms → 16 [I]');
  t.equal(await bad(`<info><group><id>${one}</id><format/></group></info>`), 16, 'empty format → 16');
  t.equal(await bad(`<info><group><id>${one}</id></group></info>`), 3, 'no format → 3');
});

t.test('faults apply to GetThings: 5xx, slow, forgotten sessions (and the 8 quirk)', async (t) => {
  const { agent, inst: eu, s } = await opened(t, '2');
  const { personId, recordId } = eu.createPerson();
  const thing = eu.addThing(recordId, WEIGHT);
  const body = () => signed(s, 'GetThings', 3, buildGetThingsInfo({ thingIds: [thing.thingId] }), { offlinePersonId: personId, recordId });

  eu.setFaults({ platform5xx: 1 });
  t.equal((await post(agent, s.url, body())).httpStatus, 500, '5xx fault');
  t.equal(parseResponse((await post(agent, s.url, body())).body).code, 0, 'the next one is answered');

  eu.setFaults({ slowMs: 2000 });
  await t.rejects(request(s.url, { dispatcher: agent, method: 'POST', body: body(), headersTimeout: 100 }), 'a slow instance outlasts a short client timeout');
  eu.setFaults({ slowMs: 0 });

  eu.forgetSessions();
  t.equal((await platform(t, agent, s.url, body())).code, 65, 'forgotten session → 65');
  eu.setQuirks({ unknownTokenStatus: 8 });
  t.equal((await platform(t, agent, s.url, body())).code, 8, 'or 8 with the strict quirk');
  t.ok((eu.stats().requests.GetThings?.['0'] ?? 0) >= 1, 'counted under its method');
});

t.test('control API: things with data, updates and deletes notify; bad content is a 400', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const us = sim.instance('1');
  const base = `${sim.controlUrl}/_sim/instances/1`;
  const { recordId } = us.createPerson();
  const changes: string[] = [];
  const onChange = us.delivery.onChange.bind(us.delivery);
  us.delivery.onChange = (c) => {
    changes.push(`${c.kind}:${c.thingId}`);
    onChange(c);
  };
  const put = await control(agent, `${base}/records/${recordId}/things`, 'POST', { typeId: GLUCOSE, data: BG('5.0'), typeName: 'BG', effectiveDate: '2020-02-02T02:02:02' });
  t.equal(put.status, 201);
  t.match(put.json, { typeName: 'BG', effectiveDate: '2020-02-02T02:02:02', version: 1, data: BG('5.0') });
  const thingId = String(put.json.thingId);
  const upd = await control(agent, `${base}/things/${thingId}`, 'PUT', { data: BG('5.5') });
  t.match(upd.json, { version: 2, data: BG('5.5') });
  t.not(upd.json.versionStamp, put.json.versionStamp);
  t.equal((await control(agent, `${base}/things/${thingId}`, 'DELETE')).status, 200);
  t.same(changes, [`created:${thingId}`, `updated:${thingId}`, `deleted:${thingId}`], 'each change feeds the notification queue');

  for (const body of [{ typeId: GLUCOSE, data: '<a>' }, { typeId: GLUCOSE, data: '<common/>' }, { typeId: GLUCOSE, data: 'text only' },
    { typeId: GLUCOSE, effectiveDate: 'today' }, { typeId: 'x' }, { typeId: GLUCOSE, thingId: 'nope' }, { typeId: GLUCOSE, thingId, count: 2 }]) {
    const res = await control(agent, `${base}/records/${recordId}/things`, 'POST', body);
    t.match(res, { status: 400, json: { code: 'HVG_ERR_VALIDATION' } }, JSON.stringify(body));
  }
});
