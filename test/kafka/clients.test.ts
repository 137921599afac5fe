// Issue 17: both Kafka clients behind src/kafka/api.ts, each checked for what the gateway relies
// on beyond the sink/store/leadership tests (which scripts/test.sh runs with both): TLS with every
// SASL mechanism as the least-privilege principal, the start-up error classification, the same
// partition for a key whichever client wrote it, and that only the chosen library is loaded.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HvgError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/index.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../../src/kafka/api.ts';
import type { KafkaSecurity } from '../../src/kafka/connection.ts';
import { baseOptions } from '../../src/kafka/platformatic-adapter.ts';
import type { KafkaSinkOptions } from '../../src/sink/kafka-sink-options.ts';
import { createKafkaSink } from '../../src/sink/kafka-sink.ts';
import { KafkaStateLog } from '../../src/subscriptions/store.ts';
import { requiredEnv } from '../helpers/env.ts';
import { anySecuredListener, brokers, grantGatewayAcls, readRecords, saslSecurity, silentLogger, uniqueTopic, type SecuredListener } from '../helpers/kafka.ts';

const listener = (t: Test): Promise<SecuredListener> => anySecuredListener((stop) => t.teardown(stop));

const sinkOptions = (client: KafkaClientName, topic: string, list: string[], security: KafkaSecurity | undefined, over: Partial<KafkaSinkOptions> = {}): KafkaSinkOptions => ({
  brokers: list, clientId: 'hv-gateway', topic, partitions: 6, replicationFactor: 1, connectTimeoutMs: 30_000, publishTimeoutMs: 10_000,
  maxBatchRecords: 500, maxBatchBytes: 900_000, maxQueuedRecords: 10_000, kafkaLogLevel: 'error', logger: silentLogger, client,
  ...(security ? { security } : {}), ...over,
});

t.test('KAFKA_CLIENT: platformatic by default (issue 17: bench + drills, README "Kafka clients"), kafkajs on request, anything else refused naming the variable', async (t) => {
  const { KAFKA_CLIENT: _ignored, ...env } = requiredEnv();
  t.equal(loadConfig(env).kafkaClient, DEFAULT_KAFKA_CLIENT);
  t.equal(DEFAULT_KAFKA_CLIENT, 'platformatic');
  t.equal(loadConfig({ ...env, KAFKA_CLIENT: 'kafkajs' }).kafkaClient, 'kafkajs');
  t.throws(() => loadConfig({ ...env, KAFKA_CLIENT: 'librdkafka' }), { message: /KAFKA_CLIENT/ });
});

t.test('what the connection settings turn into for @platformatic/kafka', async (t) => {
  const connection = { brokers: ['b1:9093', 'b2:9093'], clientId: 'hv-gateway', security: { tls: { ca: 'CA-PEM', servername: 'kafka.example' }, sasl: { mechanism: 'scram-sha-256' as const, username: 'gw', password: 'pw' } } };
  const o = baseOptions({ connection, clientIdSuffix: 'store', requestTimeoutMs: 7000, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 } });
  t.same([o.clientId, o.bootstrapBrokers, o.requestTimeout, o.timeout], ['hv-gateway-store', ['b1:9093', 'b2:9093'], 7000, 7000]);
  t.same(o.tls, { ca: ['CA-PEM'], servername: 'kafka.example' }, 'TLS with the given CA and server name; certificate checks stay on');
  t.same(o.sasl, { mechanism: 'SCRAM-SHA-256', username: 'gw', password: 'pw' });
  t.equal(o.retries, 2, 'never fewer than 2 retries: the library reads fewer as "forever" for idempotent producers');
  const plain = baseOptions({ connection: { ...connection, security: { tls: null, sasl: null } } });
  t.same([plain.tls, plain.sasl], [undefined, undefined], 'plaintext');
});

for (const client of KAFKA_CLIENTS) {
  t.test(`${client}: TLS with plain, scram-sha-256 and scram-sha-512 as the ACL'd gateway principal`, async (t) => {
    const l = await listener(t);
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const topic = uniqueTopic(`cl-${client}-${mechanism}`);
      await grantGatewayAcls(l, { eventsTopic: topic, stateTopic: uniqueTopic('unused'), clientId: 'hv-gateway', createTopics: true });
      const sink = await createKafkaSink(sinkOptions(client, topic, l.brokers, saslSecurity(l, l.gateway, mechanism)));
      await sink.publish([{ key: 'k', value: Buffer.from(mechanism), headers: { h: 'v' } }]);
      await sink.close();
      const [got] = await readRecords(topic, 1, 30_000, l.plaintext);
      t.same([got?.value, got?.headers], [mechanism, { h: 'v' }], `${mechanism}: created the topic, wrote and was acknowledged`);
    }
  });

  t.test(`${client}: a wrong password and a missing ACL stop the start with HVG_ERR_KAFKA_FATAL naming what to fix`, async (t) => {
    const l = await listener(t);
    const base = { connectTimeoutMs: 3_600_000 }; // a failure that waited for it would time the test out
    const wrong = await createKafkaSink(sinkOptions(client, uniqueTopic('cl-wrongpw'), l.brokers, saslSecurity(l, { username: l.gateway.username, password: 'not-the-password' }), base)).then(() => null, (e: unknown) => e);
    t.equal((wrong as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
    t.match((wrong as HvgError).message, /refused the SASL credentials.*KAFKA_SASL_PASSWORD/);
    t.notMatch((wrong as HvgError).message, /not-the-password/);

    const noTopicAcl = await createKafkaSink(sinkOptions(client, uniqueTopic('cl-noacl'), l.brokers, saslSecurity(l, l.outsider), base)).then(() => null, (e: unknown) => e);
    t.equal((noTopicAcl as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
    t.match((noTopicAcl as HvgError).message, /TOPIC_AUTHORIZATION_FAILED/);

    // the README list for another client id: the store's group prefix does not match this one
    const stateTopic = uniqueTopic('cl-nogroupacl');
    const clientId = uniqueTopic('client');
    await grantGatewayAcls(l, { eventsTopic: uniqueTopic('unused'), stateTopic, clientId: `${clientId}-else`, createTopics: true });
    const store = new KafkaStateLog({
      brokers: l.brokers, clientId, topic: stateTopic, replicationFactor: 1, connectTimeoutMs: 3_600_000, writeTimeoutMs: 5000,
      keyRetryHorizonMs: 1000, kafkaLogLevel: 'error', logger: silentLogger, security: saslSecurity(l, l.gateway), client,
    });
    t.teardown(() => store.close());
    const noGroupAcl = await store.start().then(() => null, (e: unknown) => e);
    t.equal((noGroupAcl as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
    t.match((noGroupAcl as HvgError).message, /GROUP_AUTHORIZATION_FAILED/);
  });
}

t.test('a key lands in the same partition whichever client wrote it (Java-compatible murmur2)', async (t) => {
  const keys = Array.from({ length: 120 }, (_, i) => `${i % 2 === 0 ? '1' : '2'}:${(i * 2654435761).toString(16)}-record-${i}`);
  const partitionOf: Map<string, number>[] = [];
  for (const client of KAFKA_CLIENTS) {
    const topic = uniqueTopic(`cl-part-${client}`);
    const sink = await createKafkaSink(sinkOptions(client, topic, brokers, undefined));
    await sink.publish(keys.map((key) => ({ key, value: Buffer.from(key), headers: {} })));
    await sink.close();
    const got = await readRecords(topic, keys.length);
    partitionOf.push(new Map(got.map((r) => [r.key, r.partition])));
  }
  const [a, b] = partitionOf;
  t.equal(a!.size, keys.length);
  t.same(keys.filter((k) => a!.get(k) !== b!.get(k)), [], 'no key moved partition between the clients');
  t.ok(new Set(a!.values()).size > 1, 'the keys spread over several partitions');
});

const ROOT = new URL('../..', import.meta.url).pathname;
// imports the whole app, then loads one client; prints which Kafka libraries were ever resolved
const probe = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { if (/^(kafkajs|@platformatic\\/kafka)$/.test(specifier)) seen.add(specifier); return next(specifier, context); } });
await import('./src/app.ts');
const { loadKafkaClient } = await import('./src/kafka/api.ts');
await loadKafkaClient(process.argv[1], { connection: { brokers: ['127.0.0.1:1'], clientId: 'probe', security: { tls: null, sasl: null } } });
console.log(JSON.stringify([...seen]));
`;

t.test('only the chosen client library is loaded', async (t) => {
  const run = promisify(execFile);
  for (const [client, lib] of [['kafkajs', 'kafkajs'], ['platformatic', '@platformatic/kafka']] as const) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, client], { cwd: ROOT });
    t.same(JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]'), [lib], `KAFKA_CLIENT=${client} loads ${lib} and not the other`);
  }
});
