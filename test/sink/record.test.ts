import t from 'tap';
import { EVENT_TYPE, eventId, toRecord, type NotificationEvent } from '../../src/sink/record.ts';

const event: NotificationEvent = {
  instanceId: '2',
  subscriptionName: 'glucose',
  subscriptionId: '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218',
  keyVersion: 'v3',
  personId: '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01',
  recordId: '9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d',
  thingIds: ['2a3b4c5d-6e7f-4081-9203-a4b5c6d7e8f9', '3b4c5d6e-7f80-4192-a314-b5c6d7e8f90a'],
  receivedAt: new Date('2026-11-30T10:00:00.000Z'),
};

t.test('key, CloudEvents headers and JSON value follow the contract', async (t) => {
  const r = toRecord(event);
  t.equal(r.key, '2:9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d');
  t.match(r.headers, {
    ce_specversion: '1.0',
    ce_source: '/healthvault/instances/2',
    ce_type: EVENT_TYPE,
    ce_time: '2026-11-30T10:00:00.000Z',
    ce_subject: 'records/9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d',
    'content-type': 'application/json',
    hv_instance_id: '2',
    hv_subscription_id: event.subscriptionId,
    hv_subscription_name: 'glucose',
    hv_key_version: 'v3',
    hv_contract_version: '1',
  });
  t.match(r.headers.ce_id, /^[0-9a-f]{32}$/);
  const v = JSON.parse(r.value.toString());
  t.same(v, {
    contractVersion: '1',
    id: r.headers.ce_id,
    instanceId: '2',
    subscription: { name: 'glucose', id: event.subscriptionId, keyVersion: 'v3' },
    personId: event.personId,
    recordId: event.recordId,
    thingIds: event.thingIds,
    receivedAt: '2026-11-30T10:00:00.000Z',
  });
});

t.test('ce_id is the same for a redelivery and differs for another change', async (t) => {
  const again = { ...event, receivedAt: new Date('2026-12-01T00:00:00Z'), keyVersion: 'v4', thingIds: [...event.thingIds].reverse() };
  t.equal(eventId(again), eventId(event), 'redelivery (later, other key version, other order) keeps the id');
  t.not(eventId({ ...event, instanceId: '1' }), eventId(event), 'another instance');
  t.not(eventId({ ...event, thingIds: [event.thingIds[0]!] }), eventId(event), 'other things');
  t.not(eventId({ ...event, recordId: event.personId }), eventId(event), 'another record');
});

// ce_id is part of the record contract: a consumer that deduplicates by it must see the same id for
// a redelivery that spans a gateway upgrade, so its derivation is pinned (values from contract v1's
// first implementation: sha256 of "instance\nsubscription\nrecord\nsorted,things", lower case, 32 hex)
t.test('ce_id derivation is pinned', async (t) => {
  const e = { instanceId: '2', subscriptionId: 'A1B2C3D4-0000-4000-8000-0123456789AB', recordId: '0EBE7196-80E4-42EB-A9C8-17C88607F01C', thingIds: ['DC136692-1188-4338-AA6A-2A5A7000C7FA', '5bba95dc-e824-444e-a32d-f956e3939f37', '10ff66ac-fced-4463-a680-dfe309c06f5c'] };
  t.equal(eventId(e), 'c267f04586bbf1da4cd12e9bd1413b13');
  t.equal(eventId({ ...e, thingIds: [] }), '8855c6493bcf54232a990a7cd5599914', 'no things');
});
