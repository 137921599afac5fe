import t, { type Test } from 'tap';
import { KafkaStateLog, type KafkaStateLogOptions } from '../../src/subscriptions/store.ts';
import type { SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { brokers, silentLogger, testKafkaClient, uniqueTopic } from '../helpers/kafka.ts';
import { GLUCOSE } from '../../support/fixtures.ts';

const options = (topic: string): KafkaStateLogOptions => ({
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

async function open(t: Test, topic: string): Promise<KafkaStateLog> {
  const s = new KafkaStateLog(options(topic));
  await s.start();
  t.teardown(() => s.close());
  return s;
}

const spec = (name: string, revision: number, typeIds = [GLUCOSE]): SubscriptionSpec => ({
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

t.test('concurrent appends: each resolves only once all its records are applied, contiguous and in call order', async (t) => {
  const topic = uniqueTopic('store-batch');
  const a = await open(t, topic);
  const b = await open(t, topic);
  const order: string[] = [];
  a.view.onApplied((_offset, key) => {
    if (key.kind === 'observation') order.push(`${key.instanceId}/${key.name}`);
  });
  const obs = (instanceId: string, name: string) => ({ instanceId, name, hvSubscriptionId: null, knownIds: [], state: 'missing' as const, keyVersion: null, specRevision: 0, lastError: null, lastSync: null });
  // 12 passes of 1–4 observations each, appended at once, as 12 instance workers finishing together do
  const passes = Array.from({ length: 12 }, (_, i) => Array.from({ length: 1 + (i % 4) }, (_, k) => obs(String(i), `s${k}`)));
  const visible = await Promise.all(passes.map((p) =>
    a.append(p.map((o) => ({ kind: 'observation' as const, instanceId: o.instanceId, name: o.name, observation: o })))
      // read-your-writes: checked the moment the append resolves, before anything else runs
      .then(() => p.every((o) => a.view.observation(o.instanceId, o.name) !== undefined)),
  ));
  t.same(visible, passes.map(() => true), 'every append saw all of its records when it resolved');
  t.same(order, passes.flat().map((o) => `${o.instanceId}/${o.name}`), 'the log holds each append contiguous, in call order');
  await b.view.waitForOffset(a.view.appliedOffset, 10_000);
  t.equal(b.view.observations().length, passes.flat().length, 'another replica folds the same records');
  t.equal(await a.writeSpec(spec('after', 1)), true, 'a spec write after a batch still settles its revision');
});
