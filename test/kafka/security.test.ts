// Issue 12's security checks against a real SASL_SSL listener with StandardAuthorizer ACLs: the
// suite's (scripts/test.sh exports it) or, when the suite's broker has none, one started here.
import t, { type Test } from 'tap';
import type { Kafka } from 'kafkajs';
import { HvgError } from '../../src/errors.ts';
import { classifyKafkaError, createKafkaClient, type KafkaSecurity } from '../../src/kafka/index.ts';
import { createKafkaSink } from '../../src/sink/kafka-sink.ts';
import { KafkaStateLog } from '../../src/subscriptions/store.ts';
import { requiredEnv } from '../helpers/env.ts';
import { runServerUntilExit } from '../helpers/server-process.ts';
import { anySecuredListener, createTopic, grantGatewayAcls, saslSecurity, silentLogger, uniqueTopic, type SecuredListener } from '../helpers/kafka.ts';

const listener = (t: Test): Promise<SecuredListener> => anySecuredListener((stop) => t.teardown(stop));

const client = (l: SecuredListener, security: KafkaSecurity): Kafka =>
  createKafkaClient({ connection: { brokers: l.brokers, clientId: 'hvg-test-intruder', security }, connectionTimeoutMs: 3000, requestTimeoutMs: 5000, retry: { retries: 0 } });

/** The error a read of `topic` from the beginning ends with (null = it read a record). */
async function readError(kafka: Kafka, topic: string): Promise<unknown> {
  const consumer = kafka.consumer({ groupId: `hvg-test-intruder-${Date.now()}`, retry: { retries: 0, restartOnFailure: async () => false } });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<unknown>((resolve) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error));
      void consumer.run({ eachMessage: async () => resolve(null) }).catch(resolve);
    });
  } catch (err) {
    return err;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

async function writeError(kafka: Kafka, topic: string): Promise<unknown> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'spec/forged', value: '{"forged":true}' }] });
    return null;
  } catch (err) {
    return err;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

t.test('SASL_SSL listener: without credentials, or with credentials but no ACLs, nobody reads the events topic or writes the state topic', async (t) => {
  const l = await listener(t);
  const events = uniqueTopic('sec-events');
  const state = uniqueTopic('sec-state');
  await createTopic(events, 1, l.plaintext);
  await createTopic(state, 1, l.plaintext);
  await grantGatewayAcls(l, { eventsTopic: events, stateTopic: state, clientId: 'hv-gateway', createTopics: false });
  // the gateway principal itself can write the state topic: the refusals below are about who asks
  t.equal(await writeError(client(l, saslSecurity(l, l.gateway)), state), null, 'the gateway principal writes the state topic');
  const gatewayProducer = client(l, saslSecurity(l, l.gateway)).producer();
  await gatewayProducer.connect();
  await gatewayProducer.send({ topic: events, messages: [{ key: 'k', value: 'a notification' }] });
  await gatewayProducer.disconnect();

  const anonymous = client(l, saslSecurity(l, null)); // TLS only, no SASL
  t.not(await readError(anonymous, events), null, 'no credentials: cannot read the events topic');
  t.not(await writeError(anonymous, state), null, 'no credentials: cannot write the state topic');

  const outsider = client(l, saslSecurity(l, l.outsider));
  const read = await readError(outsider, events);
  t.not(read, null, 'no ACLs: cannot read the events topic');
  t.equal(classifyKafkaError(read, 'outsider').kind, 'fatal');
  t.match(classifyKafkaError(read, 'outsider').message, /AUTHORIZATION_FAILED/);
  const write = await writeError(outsider, state);
  t.not(write, null, 'no ACLs: cannot write the state topic');
  t.match(classifyKafkaError(write, 'outsider').message, /TOPIC_AUTHORIZATION_FAILED/);
});

t.test('a wrong password stops the start with a clear error, not a wait for the connect timeout', async (t) => {
  const l = await listener(t);
  const sink = createKafkaSink({
    brokers: l.brokers, clientId: 'hvg-test', topic: uniqueTopic('sec-wrongpw'), partitions: 1, replicationFactor: 1,
    // an hour: a failure that waited for it would time the test out instead of passing
    connectTimeoutMs: 3_600_000, publishTimeoutMs: 5000, maxBatchRecords: 10, maxBatchBytes: 100_000, maxQueuedRecords: 100,
    kafkaLogLevel: 'error', logger: silentLogger, security: saslSecurity(l, { username: l.gateway.username, password: 'not-the-password' }),
  });
  const err = await sink.then(() => null, (e: unknown) => e);
  t.ok(err instanceof HvgError);
  t.equal((err as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
  t.match((err as HvgError).message, /refused the SASL credentials.*KAFKA_SASL_PASSWORD/);
  t.notMatch((err as HvgError).message, /not-the-password/, 'the password is not in the message');
});

t.test('a missing ACL stops the start with an error that names it', async (t) => {
  const l = await listener(t);
  const stateTopic = uniqueTopic('sec-noacl');
  // the README list for another client id: the store's group prefix does not match this one
  // (ACLs outlive tests on a shared broker: both ids are unique)
  const clientId = uniqueTopic('client');
  await grantGatewayAcls(l, { eventsTopic: uniqueTopic('unused'), stateTopic, clientId: `${clientId}-else`, createTopics: true });
  const store = new KafkaStateLog({
    brokers: l.brokers, clientId, topic: stateTopic, replicationFactor: 1, connectTimeoutMs: 3_600_000, writeTimeoutMs: 5000,
    keyRetryHorizonMs: 1000, kafkaLogLevel: 'error', logger: silentLogger, security: saslSecurity(l, l.gateway),
  });
  t.teardown(() => store.close());
  const err = await store.start().then(() => null, (e: unknown) => e);
  t.equal((err as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
  t.match((err as HvgError).message, /GROUP_AUTHORIZATION_FAILED.*README "Connecting to your Kafka"/);

  const sink = createKafkaSink({
    brokers: l.brokers, clientId: 'hvg-test', topic: uniqueTopic('sec-notopicacl'), partitions: 1, replicationFactor: 1,
    connectTimeoutMs: 3_600_000, publishTimeoutMs: 5000, maxBatchRecords: 10, maxBatchBytes: 100_000, maxQueuedRecords: 100,
    kafkaLogLevel: 'error', logger: silentLogger, security: saslSecurity(l, l.outsider),
  });
  const sinkErr = await sink.then(() => null, (e: unknown) => e);
  t.equal((sinkErr as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
  t.match((sinkErr as HvgError).message, /TOPIC_AUTHORIZATION_FAILED/);
});

t.test('the server process: a wrong password exits 1 naming the setting, and never prints the password', async (t) => {
  const l = await listener(t);
  const secret = `wrong-${Date.now()}-pw`;
  const { code, out } = await runServerUntilExit({
    LOG_LEVEL: 'debug', KAFKA_LOG_LEVEL: 'debug', ...requiredEnv(), PORT: '0', HOST: '127.0.0.1',
    KAFKA_BROKERS: l.brokers.join(','), KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: l.caFile, KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: l.gateway.username, KAFKA_SASL_PASSWORD: secret, KAFKA_CONNECT_TIMEOUT_MS: '600000',
  });
  t.equal(code, 1);
  t.match(out, /KAFKA_SASL_PASSWORD/);
  t.notMatch(out, new RegExp(secret), 'the password appears nowhere in the output, even at debug');
});
