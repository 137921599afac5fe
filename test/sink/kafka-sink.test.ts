import t from 'tap';
import type { Test } from 'tap';
import type { KafkaSinkOptions } from '../../src/sink/kafka-sink-options.ts';
import { createKafkaSink } from '../../src/sink/kafka-sink.ts';
import { toRecord, type SinkRecord } from '../../src/sink/record.ts';
import { HvgError } from '../../src/errors.ts';
import { brokers, readRecords, silentLogger, testKafkaClient, topicEndOffset, uniqueTopic } from '../helpers/kafka.ts';

const options = (topic: string, over: Partial<KafkaSinkOptions> = {}): KafkaSinkOptions => ({
  brokers,
  clientId: 'hvg-test-sink',
  topic,
  partitions: 3,
  replicationFactor: 1,
  connectTimeoutMs: 20_000,
  publishTimeoutMs: 10_000,
  maxBatchRecords: 500,
  maxBatchBytes: 900_000,
  maxQueuedRecords: 50_000,
  kafkaLogLevel: 'error',
  logger: silentLogger,
  client: testKafkaClient,
  ...over,
});

let seq = 0;
const record = (i: number, instanceId = i % 2 === 0 ? '1' : '2'): SinkRecord =>
  toRecord({
    instanceId,
    subscriptionName: 'sub-a',
    subscriptionId: '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218',
    keyVersion: '1',
    personId: '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01',
    recordId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    thingIds: [`10000000-0000-4000-8000-${String(seq++).padStart(12, '0')}`],
    receivedAt: new Date(),
  });

t.test('published records read back with the same keys, headers and values; none lost', async (t) => {
  const topic = uniqueTopic('sink-roundtrip');
  const sink = await createKafkaSink(options(topic));
  t.teardown(() => sink.close());
  t.ok(sink.isReady());
  const sent = Array.from({ length: 60 }, (_, i) => record(i));
  // three publishes of 20, concurrently: they may share one send
  await Promise.all([sink.publish(sent.slice(0, 20)), sink.publish(sent.slice(20, 40)), sink.publish(sent.slice(40))]);
  t.equal(await topicEndOffset(topic), 60, 'exactly 60 records appended');
  const got = await readRecords(topic, 60);
  t.equal(got.length, 60);
  const byKey = new Map(got.map((r) => [JSON.parse(r.value).id + r.key, r]));
  for (const s of sent) {
    const r = byKey.get(s.headers.ce_id! + s.key);
    t.ok(r, `record ${s.key} arrived`);
    if (!r) continue;
    t.equal(r.value, s.value.toString());
    t.same(r.headers, s.headers);
  }
});

t.test('1,000 concurrent publishes: all acknowledged, exactly 1,000 new records, micro-batched', async (t) => {
  const topic = uniqueTopic('sink-concurrent');
  const sink = await createKafkaSink(options(topic));
  t.teardown(() => sink.close());
  const before = await topicEndOffset(topic);
  const records = Array.from({ length: 1000 }, (_, i) => record(i));
  const results = await Promise.allSettled(records.map((r) => sink.publish([r])));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1000, 'every publish acknowledged');
  t.equal((await topicEndOffset(topic)) - before, 1000, 'offset delta is exactly 1,000');
  const stats = sink.stats();
  t.equal(stats.recordsAcked, 1000);
  t.ok(stats.sends < 1000, `records were batched (${stats.sends} sends for 1,000 publishes)`);
  const got = await readRecords(topic, 1000);
  t.equal(new Set(got.map((r) => r.headers.ce_id)).size, 1000, 'no duplicates read back');
});

t.test('records may name a second topic the sink ensured: one send per batch across topics, exact counts, unknown topics refused', async (t) => {
  const topic = uniqueTopic('sink-multi');
  const dead = uniqueTopic('sink-multi-dead');
  const sink = await createKafkaSink(options(topic, { extraTopics: [{ topic: dead, variable: 'KAFKA_DEAD_LETTER_TOPIC' }] }));
  t.teardown(() => sink.close());
  t.equal(await topicEndOffset(dead), 0, 'the extra topic was created at start');
  const deadRecord = (i: number): SinkRecord => ({ topic: dead, key: `1:${i}`, value: Buffer.from(`<raw ${i}/>`), headers: { hv_dead_letter_reason: 'unreadable' } });
  // 300 publishes: events only, dead letters only, and both in one publish
  const publishes = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? [record(i)] : i % 3 === 1 ? [deadRecord(i)] : [record(i), deadRecord(i)]));
  const results = await Promise.allSettled(publishes.map((p) => sink.publish(p)));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 300, 'every publish acknowledged');
  t.equal(await topicEndOffset(topic), 200, 'events in the events topic');
  t.equal(await topicEndOffset(dead), 200, 'dead letters in their own topic');
  const stats = sink.stats();
  t.equal(stats.recordsAcked, 400);
  t.ok(stats.sends < 300, `batched across topics (${stats.sends} sends for 300 publishes)`);
  const got = await readRecords(dead, 200);
  t.same(new Set(got.map((r) => r.value)).size, 200, 'no duplicates, values as published');
  t.equal(got.find((r) => r.key === '1:1')?.value, '<raw 1/>');
  const sends = sink.stats().sends;
  await t.rejects(sink.publish([record(1000), { ...deadRecord(1000), topic: uniqueTopic('never-ensured') }]), { code: 'HVG_ERR_INTERNAL' });
  t.same([sink.stats().sends, sink.stats().producerResets, await topicEndOffset(topic)], [sends, 0, 200], 'refused before anything was sent; the producer kept');
});

t.test('an unreachable broker list fails fast with a coded error naming it', async (t) => {
  const started = Date.now();
  const err = await createKafkaSink(options(uniqueTopic('x'), { brokers: ['127.0.0.1:1'], connectTimeoutMs: 2000 })).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, HvgError);
  t.equal((err as HvgError).code, 'HVG_ERR_KAFKA_UNREACHABLE');
  t.match((err as HvgError).message, /127\.0\.0\.1:1 \(KAFKA_BROKERS\)/);
  t.ok(Date.now() - started < 10_000, 'settles within a bounded time (no hang)');
});

t.test('bad input is refused with a code, before anything is sent', async (t) => {
  const topic = uniqueTopic('sink-bad');
  const sink = await createKafkaSink(options(topic, { maxBatchBytes: 4096, maxQueuedRecords: 3 }));
  const huge: SinkRecord = { key: 'k', value: Buffer.alloc(8000), headers: {} };
  await t.rejects(sink.publish([huge]), { code: 'HVG_ERR_RECORD_TOO_LARGE' });
  await t.rejects(sink.publish([record(1), record(2), record(3), record(4)]), { code: 'HVG_ERR_SINK_OVERLOADED' });
  await sink.publish([]);
  await sink.close();
  await t.rejects(sink.publish([record(5)]), { code: 'HVG_ERR_SINK_CLOSED', retriable: true });
  t.equal(await topicEndOffset(topic), 0, 'nothing was written');
});

t.test('close() flushes what was accepted', async (t) => {
  const topic = uniqueTopic('sink-close');
  const sink = await createKafkaSink(options(topic));
  const pending = Array.from({ length: 300 }, (_, i) => sink.publish([record(i)]));
  const closing = sink.close();
  const results = await Promise.allSettled(pending);
  await closing;
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 300, 'every accepted publish acknowledged');
  t.equal(await topicEndOffset(topic), 300);
});

// Broker down (fast-fail while down, readiness, recovery, nothing acknowledged lost): kafka-sink-broker-loss.test.ts

/**
 * A sink with one batching rule set to 60 s, longer than its 5 s publish deadline: a publish that
 * waited for the rule would fail with HVG_ERR_KAFKA_TIMEOUT, so every assertion of the two tests
 * below fails if a rule is missing. Batches of 4 records; `close()` for the test's own close.
 */
async function batchingSink(t: Test, name: string, rule: Pick<KafkaSinkOptions, 'lingerMs' | 'sendIntervalMs'>) {
  const topic = uniqueTopic(name);
  const sink = await createKafkaSink(options(topic, { ...rule, publishTimeoutMs: 5_000, maxBatchRecords: 4 }));
  let closed = false;
  t.teardown(() => (closed ? undefined : sink.close()));
  const close = async () => {
    closed = true;
    await sink.close();
  };
  const sends0 = sink.stats().sends;
  return { topic, sink, sends: () => sink.stats().sends - sends0, close };
}

t.test('KAFKA_LINGER_MS: publishes arriving apart share one send; a full batch and close() do not wait for the linger', async (t) => {
  const { topic, sink, sends, close } = await batchingSink(t, 'sink-linger', { lingerMs: 60_000 });
  const published: Promise<void>[] = [];
  for (let i = 0; i < 4; i++) {
    published.push(sink.publish([record(i)]));
    await new Promise((r) => setImmediate(r)); // each publish in its own turn of the event loop
    if (i < 3) t.equal(sends(), 0, `publish ${i + 1} of 4 waits for the batch to fill`);
  }
  await Promise.all(published);
  t.equal(sends(), 1, 'four publishes from four loop turns went in one send, as soon as the fourth filled the batch');
  t.equal(await topicEndOffset(topic), 4);

  const tail = [sink.publish([record(10)]), sink.publish([record(11)])];
  await new Promise((r) => setImmediate(r));
  t.equal(sink.stats().queuedRecords, 2, 'two records linger');
  await close();
  await Promise.all(tail);
  t.equal(await topicEndOffset(topic), 6, 'close() sent the lingering records at once and they were acknowledged');
});

t.test('KAFKA_SEND_INTERVAL_MS: a publish after a quiet spell goes at once; later ones share the next send; a full batch and close() do not wait', async (t) => {
  const { topic, sink, sends, close } = await batchingSink(t, 'sink-interval', { sendIntervalMs: 60_000 });
  await sink.publish([record(0)]);
  t.equal(sends(), 1, 'the first publish (no send before it) went at once');

  const published: Promise<void>[] = [];
  for (let i = 1; i <= 4; i++) {
    published.push(sink.publish([record(i)]));
    await new Promise((r) => setImmediate(r)); // each publish in its own turn of the event loop
    if (i < 4) t.equal(sends(), 1, `publish ${i} of 4 within the interval waits`);
  }
  await Promise.all(published);
  t.equal(sends(), 2, 'the four went in one send, as soon as the fourth filled the batch');
  t.equal(await topicEndOffset(topic), 5);

  const tail = sink.publish([record(10)]);
  await new Promise((r) => setImmediate(r));
  t.equal(sink.stats().queuedRecords, 1, 'a publish right after a send waits for the interval');
  await close();
  await tail;
  t.equal(await topicEndOffset(topic), 6, 'close() sent it at once and it was acknowledged');
});
