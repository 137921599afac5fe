import t, { type Test } from 'tap';
import { SubscriptionStore, type SubscriptionStoreOptions } from '../../src/subscriptions/store.ts';
import type { SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { brokers, silentLogger, testKafkaClient, uniqueTopic } from '../helpers/kafka.ts';

const options = (topic: string): SubscriptionStoreOptions => ({
  brokers,
  clientId: 'hvg-test',
  topic,
  replicationFactor: 1,
  connectTimeoutMs: 20_000,
  writeTimeoutMs: 10_000,
  keyRetryHorizonMs: 60_000,
  kafkaLogLevel: 'error',
  logger: silentLogger,
  client: testKafkaClient,
});

async function open(t: Test, topic: string): Promise<SubscriptionStore> {
  const s = new SubscriptionStore(options(topic));
  await s.start();
  t.teardown(() => s.close());
  return s;
}

const spec = (name: string, revision: number, typeIds = ['879e7c04-4e8a-4707-9ad3-b054df467ce4']): SubscriptionSpec => ({
  name,
  eventType: 'record-item-changed',
  typeIds,
  instances: null,
  keyVersion: 1,
  previousKeyVersion: null,
  keyRotatedAt: null,
  revision,
  createdAt: '2026-11-30T00:00:00.000Z',
  updatedAt: '2026-11-30T00:00:00.000Z',
});

t.test('read-your-writes, a second replica sees the same state, a restart rebuilds it', async (t) => {
  const topic = uniqueTopic('store');
  const a = await open(t, topic);
  const b = await open(t, topic);
  t.ok(a.isLoaded());
  t.equal(await a.writeSpec(spec('glucose', 1)), true);
  t.same(a.view.spec('glucose'), spec('glucose', 1), 'applied on the writer before the write resolves');
  await a.writeObservation({ instanceId: '1', name: 'glucose', hvSubscriptionId: 'AAAAAAAA-0000-4000-8000-000000000001', knownIds: [], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null });
  await b.view.waitForOffset(a.view.appliedOffset, 10_000);
  t.same(b.view.spec('glucose'), spec('glucose', 1), 'the other replica has it');
  t.same([...b.view.route('1', 'glucose')!.subscriptionIds], ['aaaaaaaa-0000-4000-8000-000000000001']);

  t.equal(await b.writeSpec({ name: 'glucose', deleted: true, revision: 2 }), true);
  await a.view.waitForOffset(b.view.appliedOffset, 10_000);
  t.equal(a.view.spec('glucose'), undefined, 'deleted everywhere');
  t.equal(a.view.lastSpecWrite('glucose')?.revision, 2, 'the revision survives deletion');
  t.equal(await a.writeSpec(spec('glucose', 3)), true, 'recreated with the next revision');

  const c = await open(t, topic);
  t.same(c.view.spec('glucose'), spec('glucose', 3), 'a restarted replica rebuilds the same view');
  t.equal(c.view.observation('1', 'glucose')?.state, 'in-sync');
});

t.test('concurrent writes of one revision: exactly one wins and every replica agrees', async (t) => {
  const topic = uniqueTopic('store-race');
  const a = await open(t, topic);
  const b = await open(t, topic);
  const [wa, wb] = await Promise.all([a.writeSpec(spec('race', 1, ['aaaaaaaa-0000-4000-8000-00000000000a'])), b.writeSpec(spec('race', 1, ['bbbbbbbb-0000-4000-8000-00000000000b']))]);
  t.equal(Number(wa) + Number(wb), 1, `exactly one write won (a=${wa}, b=${wb})`);
  await a.view.waitForOffset(b.view.appliedOffset, 10_000);
  await b.view.waitForOffset(a.view.appliedOffset, 10_000);
  const winner = wa ? 'aaaaaaaa-0000-4000-8000-00000000000a' : 'bbbbbbbb-0000-4000-8000-00000000000b';
  t.same(a.view.spec('race')?.typeIds, [winner]);
  t.same(b.view.spec('race')?.typeIds, [winner]);
  const c = await open(t, topic);
  t.same(c.view.spec('race')?.typeIds, [winner], 'a replica started later agrees (the winner is also the last record)');
});

t.test('key acceptance per instance: the previous version stays until the instance confirmed the new one and the horizon passed', async (t) => {
  const topic = uniqueTopic('store-keys');
  const a = await open(t, topic);
  await a.writeSpec({ ...spec('rot', 1), keyVersion: 2, previousKeyVersion: 1, keyRotatedAt: new Date(Date.now() - 3_600_000).toISOString() });
  t.same(a.view.route('1', 'rot')!.keyVersions, [2, 1], 'no instance confirmed v2: v1 stays, however long ago the rotation was');
  const confirmedAt = Date.now() - 30_000;
  await a.writeObservation({ instanceId: '1', name: 'rot', hvSubscriptionId: null, knownIds: [], state: 'in-sync', keyVersion: 2, keyConfirmations: [{ version: 2, at: new Date(confirmedAt).toISOString() }], specRevision: 1, lastError: null, lastSync: null });
  t.same(a.view.route('1', 'rot')!.keyVersions, [2, 1], 'instance 1 confirmed v2 30 s ago: within the 60 s horizon');
  t.same(a.view.route('1', 'rot', confirmedAt + 60_001)!.keyVersions, [2], 'after it');
  t.same(a.view.route('2', 'rot', confirmedAt + 60_001)!.keyVersions, [2, 1], 'instance 2 has not confirmed v2: still v1 there');
  t.equal(a.view.route('1', 'nope'), undefined);
});
