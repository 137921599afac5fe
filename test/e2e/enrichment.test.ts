// Issue 15's checks end to end: simulator (US "1", EU "2", GetThings v3 with offline access) →
// gateway (notification path + enrichment stage, as the least-privilege principal over SASL_SSL
// when the suite has that listener) → the real broker, read back with a plain consumer.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { APP_ID } from '../helpers/env.ts';
import { readRecords, topicEndOffset, uniqueTopic, type ReadRecord } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, startGateway, startSim, WEIGHT, type Gateway } from '../helpers/stack.ts';

interface ThingValue {
  kind: 'thing' | 'unavailable' | 'error';
  eventId: string;
  instanceId: string;
  recordId: string;
  thingId: string;
  dataXml?: string | null;
  typeId?: string;
  versionStamp?: string;
  error?: { hvStatus: number | null; code: string };
}

async function readAll(topic: string): Promise<ReadRecord[]> {
  const n = await topicEndOffset(topic);
  return n === 0 ? [] : readRecords(topic, n);
}

/** Thing records until `ok` holds for them (the stage works in the background). */
async function thingsUntil(topic: string, ok: (vs: { r: ReadRecord; v: ThingValue }[]) => boolean, ms = 40_000) {
  return eventually(`thing records in ${topic}`, async () => (await readAll(topic)).map((r) => ({ r, v: JSON.parse(r.value) as ThingValue })), ok, ms);
}

async function subscribe(gw: Gateway, name: string, typeIds: string[], enrich: boolean) {
  const r = await gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds, enrich });
  if (r.status !== 201) throw new Error(`PUT ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  await eventually(`${name} in sync`, () => gw.admin('GET', `/v1/subscriptions/${name}`), (x) => x.json.status.every((s: { state: string }) => s.state === 'in-sync'));
}

const glucose = (mmol: string) => `<blood-glucose><value><mmolPerL>${mmol}</mmolPerL></value></blood-glucose>`;

t.test('each thing record comes from its own instance; deletes are unavailable; a person without offline access is an error and the stage goes on', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  await subscribe(gw, 'glucose', [GLUCOSE], true);
  await subscribe(gw, 'weight', [WEIGHT], false);
  const us = sim.instance('1');
  const eu = sim.instance('2');

  // the same person, record and thing ids in both instances, with different data: only the
  // instance tag can tell which instance to read
  const personId = randomUUID();
  const recordId = randomUUID();
  const thingId = randomUUID();
  us.createPerson({ personId, recordId });
  eu.createPerson({ personId, recordId });
  us.addThing(recordId, GLUCOSE, { thingId, data: glucose('5.4') });
  eu.addThing(recordId, GLUCOSE, { thingId, data: glucose('7.5') });
  // a thing deleted (its change and its deletion notified): the last record of its key is unavailable
  const gone = us.addThing(recordId, GLUCOSE, { data: glucose('6.1') }).thingId;
  const firstSeen = await thingsUntil(gw.thingsTopic, (vs) => vs.some((x) => x.v.thingId === gone));
  us.deleteThing(gone);
  // a weight change: its subscription does not enrich
  const weightThing = us.addThing(recordId, WEIGHT).thingId;

  const rows = await thingsUntil(gw.thingsTopic, (vs) =>
    vs.some((x) => x.r.key === `1:${recordId}:${thingId}`) && vs.some((x) => x.r.key === `2:${recordId}:${thingId}`) && vs.filter((x) => x.v.thingId === gone).length > firstSeen.filter((x) => x.v.thingId === gone).length);
  const usThing = rows.find((x) => x.r.key === `1:${recordId}:${thingId}`)!;
  const euThing = rows.find((x) => x.r.key === `2:${recordId}:${thingId}`)!;
  t.same([usThing.v.kind, usThing.r.headers.hv_instance_id, usThing.v.instanceId], ['thing', '1', '1']);
  t.same([euThing.v.kind, euThing.r.headers.hv_instance_id, euThing.v.instanceId], ['thing', '2', '2']);
  t.match(usThing.v.dataXml, /<mmolPerL>5\.4<\/mmolPerL>/, 'the US record carries the US data');
  t.match(euThing.v.dataXml, /<mmolPerL>7\.5<\/mmolPerL>/, 'the EU record carries the EU data');
  t.equal(usThing.r.headers.hv_thing_type_id, GLUCOSE);
  t.equal(usThing.v.versionStamp, us.records.getThing(thingId)?.versionStamp, 'the version stamp the US instance holds');
  t.not(usThing.r.headers.ce_id, euThing.r.headers.ce_id, 'a ce_id of its own per record');
  for (const { r, v } of rows) t.equal(r.key.split(':')[0], v.instanceId, `key ${r.key} names the record's instance`);
  const lastOfGone = rows.filter((x) => x.v.thingId === gone).at(-1)!;
  t.equal(lastOfGone.v.kind, 'unavailable', 'after the delete, the latest record of the thing is unavailable');
  t.notOk(rows.some((x) => x.v.thingId === weightThing), 'events of a subscription without enrich are not enriched');

  // the person withdraws the application's offline access in the EU: error records with the
  // platform status, then the stage goes on with the next events
  const denied = eu.createPerson();
  eu.revokeOfflineAccess(denied.personId, APP_ID);
  const refused = eu.addThing(denied.recordId, GLUCOSE).thingId;
  const after = eu.createPerson();
  const later = eu.addThing(after.recordId, GLUCOSE, { data: glucose('4.2') }).thingId;
  const final = await thingsUntil(gw.thingsTopic, (vs) => vs.some((x) => x.v.thingId === refused) && vs.some((x) => x.v.thingId === later));
  const err = final.find((x) => x.v.thingId === refused)!;
  t.same([err.v.kind, err.v.error?.hvStatus, err.r.headers.hv_status, err.r.headers.ce_type], ['error', 11, '11', 'com.microsoft.healthvault.thing-fetch-failed.v1']);
  const next = final.find((x) => x.v.thingId === later)!;
  t.same([next.v.kind, next.v.instanceId], ['thing', '2'], 'the stage moved on');

  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  t.match(metrics, /hv_gateway_enrichment_things_written_total\{instance="2",kind="error"\} 1/);
  t.match(metrics, /hv_gateway_enrichment_errors_total\{instance="2",status="11"\} 1/);
  t.match(metrics, /hv_gateway_enrichment_things_written_total\{instance="1",kind="unavailable"\} [1-9]/);
  const status = await gw.admin('GET', '/v1/enrichment');
  t.equal(status.json.state, 'running');
  const eu2 = status.json.instances.find((i: { instanceId: string }) => i.instanceId === '2');
  t.same([eu2.errors['11'], eu2.thingsWritten.error], [1, 1]);
});

t.test('routes: the EU instance\'s events and things stay in EU topics; the stage consumes every events topic', async (t) => {
  const sim = await startSim(t);
  const euEvents = uniqueTopic('events-eu');
  const euThings = uniqueTopic('things-eu');
  const gw = await startGateway(t, sim, { KAFKA_TOPIC_ROUTES: `2=${euEvents}`, KAFKA_THINGS_TOPIC_ROUTES: `2=${euThings}` });
  await subscribe(gw, 'glucose', [GLUCOSE], true);
  const added = new Map<string, string>();
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    for (let i = 0; i < 3; i++) added.set(inst.addThing(inst.createPerson().recordId, GLUCOSE).thingId, id);
  }
  const euRows = await thingsUntil(euThings, (vs) => vs.filter((x) => x.v.kind === 'thing').length >= 3);
  const usRows = await thingsUntil(gw.thingsTopic, (vs) => vs.filter((x) => x.v.kind === 'thing').length >= 3);
  t.ok(euRows.every((x) => x.v.instanceId === '2' && added.get(x.v.thingId) === '2'), 'the EU things topic holds only EU things');
  t.ok(usRows.every((x) => x.v.instanceId === '1' && added.get(x.v.thingId) === '1'), 'the default things topic holds only US things');
  t.equal(await topicEndOffset(euEvents), (await readAll(euEvents)).filter((r) => r.headers.hv_instance_id === '2').length, 'the EU events topic holds only EU events');
  t.same((await gw.admin('GET', '/v1/enrichment')).json.eventsTopics, [gw.topic, euEvents]);
});

t.test('a failing instance backs off without holding the other instance back; its events are enriched once it recovers, none skipped', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { ENRICH_HOLD_MS: '1000', ENRICH_RETRY_BASE_MS: '100', ENRICH_RETRY_MAX_MS: '400', HV_MAX_RETRIES: '0' });
  await subscribe(gw, 'glucose', [GLUCOSE], true);
  const us = sim.instance('1');
  const eu = sim.instance('2');
  eu.setFaults({ platform5xx: true });
  const euThings = [0, 1, 2].map(() => eu.addThing(eu.createPerson().recordId, GLUCOSE).thingId);
  const usThings = [0, 1, 2].map(() => us.addThing(us.createPerson().recordId, GLUCOSE).thingId);
  const during = await thingsUntil(gw.thingsTopic, (vs) => usThings.every((id) => vs.some((x) => x.v.thingId === id && x.v.kind === 'thing')));
  t.notOk(during.some((x) => euThings.includes(x.v.thingId)), 'nothing written for the failing instance (no error records for a retriable failure)');
  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  t.match(metrics, /hv_gateway_enrichment_errors_total\{instance="2",status="HVG_ERR_INSTANCE_UNAVAILABLE"\} [1-9]/, 'the EU failures are counted');
  const gate = (await gw.admin('GET', '/v1/enrichment')).json.instances.find((i: { instanceId: string }) => i.instanceId === '2').gate;
  t.ok(gate.failures > 0, `the EU gate backs off (${gate.failures} failures in a row)`);

  eu.setFaults({ platform5xx: false });
  const after = await thingsUntil(gw.thingsTopic, (vs) => euThings.every((id) => vs.some((x) => x.v.thingId === id)));
  t.ok(euThings.every((id) => after.some((x) => x.v.thingId === id && x.v.kind === 'thing' && x.v.instanceId === '2')), 'every EU thing fetched after the recovery');
});

t.test('two replicas share the enrichment: the group spreads the events partitions, every thing is enriched once it is changed', async (t) => {
  const sim = await startSim(t);
  const gw1 = await startGateway(t, sim);
  await subscribe(gw1, 'glucose', [GLUCOSE], true);
  const gw2 = await startGateway(t, sim, { KAFKA_TOPIC: gw1.topic, KAFKA_STATE_TOPIC: gw1.stateTopic, KAFKA_DEAD_LETTER_TOPIC: gw1.deadLetterTopic, KAFKA_THINGS_TOPIC: gw1.thingsTopic });
  const parts = async (gw: Gateway) => ((await gw.admin('GET', '/v1/enrichment')).json.assignment[gw1.topic] ?? []) as number[];
  await eventually('both replicas hold partitions of the events topic', async () => [await parts(gw1), await parts(gw2)], ([a, b]) => a!.length > 0 && b!.length > 0 && [...a!, ...b!].sort().join() === '0,1,2', 60_000);
  const changed: string[] = [];
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    for (let i = 0; i < 10; i++) changed.push(inst.addThing(inst.createPerson().recordId, GLUCOSE).thingId);
  }
  await thingsUntil(gw1.thingsTopic, (vs) => changed.every((id) => vs.some((x) => x.v.thingId === id && x.v.kind === 'thing')));
  const enriched = async (gw: Gateway) => ((await gw.admin('GET', '/v1/enrichment')).json.instances as { events: { enriched: number } }[]).reduce((n, i) => n + i.events.enriched, 0);
  const [a, b] = [await enriched(gw1), await enriched(gw2)];
  t.ok(a > 0 && b > 0, `both replicas enriched events (${a} and ${b})`);
});
