// The sink's core promise under the failures that make a send's outcome unknown, for the client
// under test (KAFKA_CLIENT; scripts/test.sh runs this file with both): every publish that
// resolved (= the HTTP 200 of a notification) is in the topic afterwards — none silently lost.
// Two failures mid-traffic against a broker of our own:
//  1. the broker frozen (SIGSTOP) past twice the publish bound: sends time out and are
//     abandoned with their producer; then it thaws (SIGCONT) and completes the abandoned
//     requests after the sink already moved on to a new producer;
//  2. the broker stopped mid-batch, restarted on its data: sends fail with a retriable coded
//     error, later publishes fail at once and readiness is off while it is down, the producer is
//     replaced, publishes succeed again once it is back. (kill -9 is what the drills do; here a SIGKILLed JVM can linger
//     as a zombie on this machine and keep scripts/kafka.sh from starting it again.)
// With kafkajs, a producer reused after such a send could have its next batch taken for a
// duplicate and acknowledged without being written (its sequence rollback); this would show
// here as an acknowledged id missing from the topic.
import t from 'tap';
import { HvgError } from '../../src/errors.ts';
import { createKafkaSink } from '../../src/sink/kafka-sink.ts';
import type { SinkRecord } from '../../src/sink/record.ts';
import { freePortPair, OwnBroker, readRecords, silentLogger, testKafkaClient, topicEndOffset, uniqueTopic } from '../helpers/kafka.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test(`${testKafkaClient}: no acknowledged record is missing after a frozen broker and a stopped one`, async (t) => {
  const broker = new OwnBroker(await freePortPair());
  await broker.start();
  t.teardown(async () => {
    try {
      broker.signal('SIGCONT');
    } catch {
      // not running any more
    }
    await broker.stop();
  });
  const topic = uniqueTopic('sink-loss');
  const publishTimeoutMs = 1500;
  const sink = await createKafkaSink({
    brokers: [broker.address], clientId: 'hvg-test-loss', topic, partitions: 3, replicationFactor: 1, connectTimeoutMs: 20_000, publishTimeoutMs,
    maxBatchRecords: 200, maxBatchBytes: 900_000, maxQueuedRecords: 50_000, kafkaLogLevel: 'error', logger: silentLogger, client: testKafkaClient,
  });
  t.teardown(() => sink.close());

  // 8 publishers, each publishing small batches of unique records back to back until told to stop
  const acked = new Set<string>();
  let failed = 0;
  let next = 0;
  let running = true;
  const phase = { name: 'before', acked: new Map<string, number>() };
  const publisher = async () => {
    while (running) {
      const batch: SinkRecord[] = Array.from({ length: 1 + (next % 3) }, () => {
        const id = `r${next++}`;
        return { key: id, value: Buffer.from(JSON.stringify({ id })), headers: { ce_id: id } };
      });
      const ok = await sink.publish(batch).then(() => true, () => false);
      if (ok) {
        for (const r of batch) acked.add(r.key);
        phase.acked.set(phase.name, (phase.acked.get(phase.name) ?? 0) + batch.length);
      } else {
        failed++;
        await sleep(50); // a client would back off too
      }
    }
  };
  const publishers = Array.from({ length: 8 }, publisher);
  const ackedIn = async (name: string, count: number, ms = 90_000) => {
    phase.name = name;
    const end = Date.now() + ms;
    while ((phase.acked.get(name) ?? 0) < count && Date.now() < end) await sleep(50);
    return phase.acked.get(name) ?? 0;
  };

  t.ok((await ackedIn('before', 300)) >= 300, 'traffic flows');

  // 1. frozen past 2 × the publish bound: publishes time out, the in-flight send is abandoned
  broker.signal('SIGSTOP');
  phase.name = 'frozen';
  const failedBefore = failed;
  await sleep(2 * publishTimeoutMs + 1500);
  broker.signal('SIGCONT');
  t.ok(failed > failedBefore, `publishes failed while the broker was frozen (${failed - failedBefore})`);
  t.ok((await ackedIn('thawed', 300)) >= 300, 'publishes succeed again after the thaw');

  // 2. stopped mid-batch, restarted on its data
  phase.name = 'stopped';
  const failedBeforeKill = failed;
  await broker.stop();
  const probe = (n: number): SinkRecord[] => [{ key: `probe${n}`, value: Buffer.from('{}'), headers: {} }];
  const err = await sink.publish(probe(1)).then(() => null, (e: unknown) => e);
  t.type(err, HvgError, 'a publish while the broker is down is rejected');
  t.match((err as HvgError).code, /^HVG_ERR_KAFKA_(PRODUCE|TIMEOUT|UNREACHABLE)$/);
  t.equal((err as HvgError).retriable, true, 'retriable: the instance gets 503 and retries');
  // once the failed send is known (at the latest when it is abandoned, 2 × the publish bound),
  // readiness is off and publishes fail at once until Kafka is back
  for (let i = 0; i < 40 && sink.isReady(); i++) await sleep(100);
  t.equal(sink.isReady(), false, 'not ready while Kafka is down');
  await t.rejects(sink.publish(probe(2)), { code: 'HVG_ERR_KAFKA_UNREACHABLE', retriable: true });
  await broker.start(true);
  t.ok(failed > failedBeforeKill, `publishes failed while the broker was gone (${failed - failedBeforeKill})`);
  t.ok((await ackedIn('restarted', 300, 120_000)) >= 300, 'publishes succeed again after the restart');
  t.ok(sink.isReady(), 'ready again');

  running = false;
  await Promise.all(publishers);
  t.ok(sink.stats().producerResets >= 2, `the producer was replaced after the failed sends (${sink.stats().producerResets} times)`);

  const end = await topicEndOffset(topic, [broker.address]);
  const got = await readRecords(topic, end, 60_000, [broker.address]);
  t.equal(got.length, end, 'the whole topic was read back');
  const inTopic = new Set(got.map((r) => r.key));
  const missing = [...acked].filter((id) => !inTopic.has(id));
  t.same(missing, [], `all ${acked.size} acknowledged records are in the topic (${got.length - inTopic.size} duplicates: at-least-once allows them)`);
});
