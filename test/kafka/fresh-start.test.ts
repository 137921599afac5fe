// Issue 12, clean start on a fresh cluster: the gateway's Kafka parts started at the same moment
// as a brand-new broker (as compose and Kubernetes do) come up without a single warn or error
// line: connection refused, "not leader", "unknown topic" and "coordinator loading" are all
// retried quietly at debug within KAFKA_CONNECT_TIMEOUT_MS. (scripts/fresh-starts.sh repeats the
// whole demo 10 times; this is the CI-sized version.)
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createKafkaSink } from '../../src/sink/kafka-sink.ts';
import { Leadership } from '../../src/subscriptions/leadership.ts';
import { KafkaStateLog } from '../../src/subscriptions/store.ts';
import { freePortPair, OwnBroker, uniqueTopic } from '../helpers/kafka.ts';

t.test('sink, store and leadership started with a broker that is still booting: ready, and nothing above debug', async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString())), cb()) }));
  const broker = new OwnBroker(await freePortPair());
  t.teardown(() => broker.stop());
  const brokers = [broker.address];
  const connectTimeoutMs = 170_000; // the broker's own start on a busy 2-core machine
  const booting = broker.start();
  const state = uniqueTopic('fresh-state');
  const store = new KafkaStateLog({ brokers, clientId: 'hvg-fresh', topic: state, replicationFactor: 1, connectTimeoutMs, writeTimeoutMs: 10_000, keyRetryHorizonMs: 1000, kafkaLogLevel: 'debug', logger });
  const leadership = new Leadership({ brokers, clientId: 'hvg-fresh', topic: `${state}.leader`, groupId: `${state}.leader`, replicationFactor: 1, sessionTimeoutMs: 6000, kafkaLogLevel: 'debug', logger, connectTimeoutMs });
  t.teardown(() => Promise.all([store.close(), leadership.close()]));
  const sink = createKafkaSink({
    brokers, clientId: 'hvg-fresh', topic: uniqueTopic('fresh-events'), partitions: 3, replicationFactor: 1, connectTimeoutMs, publishTimeoutMs: 10_000,
    maxBatchRecords: 100, maxBatchBytes: 900_000, maxQueuedRecords: 1000, kafkaLogLevel: 'debug', logger,
  });
  const [s] = await Promise.all([sink, store.start(), leadership.start(), booting]);
  t.teardown(() => s.close());
  t.ok(s.isReady(), 'sink ready');
  t.ok(store.isLoaded(), 'store loaded');
  await store.requestReconcile(); // a write through the idempotent producer and read back
  const deadline = Date.now() + 60_000;
  while (!leadership.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.ok(leadership.isLeader(), 'the only member leads');
  const loud = lines.filter((l) => l.level >= 40);
  t.same(loud.map((l) => l.msg), [], 'no warn or error line');
  t.ok(lines.some((l) => l.level === 20 && /not yet, retrying/.test(l.msg)), 'the waiting was logged at debug');
});
