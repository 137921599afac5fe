// The things-topic record contract: key, CloudEvents headers, value per kind, deterministic ce_id.
import t from 'tap';
import { outcomesOf } from '../../src/enrichment/enrich-event.ts';
import { thingRecordId, toThingRecord, type EnrichEvent } from '../../src/enrichment/thing-record.ts';

const event: EnrichEvent = {
  eventId: '1dd19ee0c04ccbabc1a3bc51709fc0fd', instanceId: '2', subscriptionName: 'glucose',
  personId: '24594502-a3a1-409d-b85e-b5f75aca581f', recordId: '3bd52cd6-ca6c-4720-9df2-cd59b18aaa2c', thingIds: [],
};
const thing = { thingId: '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b', versionStamp: '6b1e0c8a-93d4-4f27-b5a2-7c9e1d3f5a80', typeId: '879e7c04-4e8a-4707-9ad3-b054df467ce4', typeName: 'Blood glucose', state: 'Active', flags: 0, effectiveDate: '2019-01-15T07:55:00', dataXml: '<data-xml><blood-glucose/></data-xml>' };
const at = new Date('2026-12-01T00:00:00.000Z');

t.test('a fetched thing: key per thing, own ce_id, type id header, value with the data XML', async (t) => {
  const r = toThingRecord(event, { kind: 'thing', thing }, 'healthvault.things.eu', at);
  t.equal(r.topic, 'healthvault.things.eu');
  t.equal(r.key, `2:${event.recordId}:${thing.thingId}`);
  t.match(r.headers, { ce_specversion: '1.0', ce_type: 'com.microsoft.healthvault.thing-fetched.v1', ce_source: '/healthvault/instances/2', hv_instance_id: '2', hv_thing_type_id: thing.typeId, hv_thing_kind: 'thing', hv_event_id: event.eventId, hv_version_stamp: thing.versionStamp });
  t.match(r.headers.ce_id, /^[0-9a-f]{32}$/);
  t.not(r.headers.ce_id, event.eventId, 'a ce_id of its own');
  const v = JSON.parse(r.value.toString());
  t.same(v, { contractVersion: '1', id: r.headers.ce_id, kind: 'thing', eventId: event.eventId, instanceId: '2', subscriptionName: 'glucose', personId: event.personId, recordId: event.recordId, thingId: thing.thingId, fetchedAt: at.toISOString(), versionStamp: thing.versionStamp, typeId: thing.typeId, typeName: 'Blood glucose', effectiveDate: '2019-01-15T07:55:00', state: 'Active', dataXml: thing.dataXml });
});

t.test('ce_id: same event, thing and version → same id (a re-fetch deduplicates); a new version → a new id', async (t) => {
  const a = thingRecordId(event.eventId, { kind: 'thing', thing });
  t.equal(thingRecordId(event.eventId, { kind: 'thing', thing: { ...thing, thingId: thing.thingId.toUpperCase() } }), a);
  t.not(thingRecordId(event.eventId, { kind: 'thing', thing: { ...thing, versionStamp: '00000000-0000-4000-8000-000000000000' } }), a);
  t.not(thingRecordId('another-event', { kind: 'thing', thing }), a);
  t.not(thingRecordId(event.eventId, { kind: 'unavailable', thingId: thing.thingId }), a);
});

t.test('unavailable and error records: same key, their own type, the status of the refusal', async (t) => {
  const u = toThingRecord(event, { kind: 'unavailable', thingId: thing.thingId }, 't', at);
  t.equal(u.key, `2:${event.recordId}:${thing.thingId}`);
  t.equal(u.headers.ce_type, 'com.microsoft.healthvault.thing-unavailable.v1');
  t.notOk('hv_thing_type_id' in u.headers);
  t.equal(JSON.parse(u.value.toString()).kind, 'unavailable');
  const e = toThingRecord(event, { kind: 'error', thingId: thing.thingId, hvStatus: 11, code: 'HVG_ERR_HV_STATUS', message: 'ACCESS_DENIED' }, 't', at);
  t.equal(e.headers.ce_type, 'com.microsoft.healthvault.thing-fetch-failed.v1');
  t.equal(e.headers.hv_status, '11');
  t.same(JSON.parse(e.value.toString()).error, { hvStatus: 11, code: 'HVG_ERR_HV_STATUS', message: 'ACCESS_DENIED' });
});

t.test('an asked id the answer does not hold is unavailable; order follows the question', async (t) => {
  const other = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
  const out = outcomesOf([other, thing.thingId], { things: [thing], missing: [other] });
  t.same(out.map((o) => o.kind), ['unavailable', 'thing']);
});
