// Test helpers against the real broker that scripts/test.sh started (KAFKA_BROKERS).
// Observers (createTopic, readRecords, topicEndOffset) connect like every project client: the
// KAFKA_SSL*/KAFKA_SASL_* settings of the environment, through src/kafka/. On the test broker
// that is its plaintext listener, whose ANONYMOUS principal is a super user.
// The secured listener (SASL_SSL, ACLs) is described by HVG_KAFKA_* variables that
// scripts/kafka.sh writes and scripts/test.sh exports (see securedListener()).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { gatewayAcls, grantAcls, type AclNames } from '../src/kafka/acls.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../src/kafka/api.ts';
import { createKafkaClient, kafkaConnectionFromEnv, PLAINTEXT, retryUntil, type KafkaSecurity } from '../src/kafka/index.ts';

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The client the sink, store and leadership tests use: KAFKA_CLIENT (scripts/test.sh's extra pass sets it), else the default. */
export const testKafkaClient: KafkaClientName = KAFKA_CLIENTS.find((c) => c === process.env.KAFKA_CLIENT) ?? DEFAULT_KAFKA_CLIENT;

export const uniqueTopic = (name: string): string => `test.${name}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;

const envSecurity: KafkaSecurity = kafkaConnectionFromEnv(process.env, 'hvg-test').security;

/** A client for test observers; `security` defaults to the environment's KAFKA_* settings. */
export function kafkaClient(list: string[] = brokers, security: KafkaSecurity = envSecurity): Kafka {
  return createKafkaClient({ connection: { brokers: list, clientId: 'hvg-test', security }, retry: { retries: 5, initialRetryTime: 100 } });
}

export interface Credentials {
  username: string;
  password: string;
}

/** The SASL_SSL listener of a broker started with KAFKA_SASL_PORT, and its SCRAM users. */
export interface SecuredListener {
  brokers: string[];
  caFile: string;
  admin: Credentials;
  gateway: Credentials;
  /** valid credentials, no ACLs */
  outsider: Credentials;
  /** the same broker's plaintext listener (super user): used to grant ACLs */
  plaintext: string[];
}

function listenerFrom(vars: Record<string, string | undefined>, plaintext: string[]): SecuredListener | null {
  const v = (k: string) => vars[`HVG_KAFKA_${k}`];
  if (!v('SASL_BROKERS') || !v('CA_FILE')) return null;
  const creds = (who: string): Credentials => ({ username: v(`${who}_USERNAME`) ?? '', password: v(`${who}_PASSWORD`) ?? '' });
  return { brokers: v('SASL_BROKERS')!.split(','), caFile: v('CA_FILE')!, admin: creds('ADMIN'), gateway: creds('GATEWAY'), outsider: creds('OUTSIDER'), plaintext };
}

/** The suite's secured listener (exported by scripts/test.sh), or null when the broker has none. */
export const securedListener: SecuredListener | null = listenerFrom(process.env, brokers);

/**
 * The suite's secured listener, or else one of a private broker started for the caller (with
 * a SASL_SSL listener), stopped by the teardown the caller registers.
 */
export async function anySecuredListener(teardown: (stop: () => Promise<void>) => void): Promise<SecuredListener> {
  if (securedListener) return securedListener;
  const broker = new OwnBroker(await freePortPair(3), { secured: true });
  await broker.start();
  teardown(() => broker.stop());
  return broker.secured();
}

/** HVG_TEST_KAFKA_SECURITY=plaintext runs the e2e tests over plaintext even when a secured listener exists. */
export const e2eOverSaslSsl = securedListener !== null && process.env.HVG_TEST_KAFKA_SECURITY !== 'plaintext';

export function saslSecurity(l: SecuredListener, who: Credentials | null, mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' = 'scram-sha-512'): KafkaSecurity {
  return { tls: { ca: readFileSync(l.caFile, 'utf8') }, sasl: who ? { mechanism, ...who } : null };
}

/** Grant the README's ACL list (no more) for these names to User:<gateway>, through the plaintext super user. */
export async function grantGatewayAcls(l: SecuredListener, names: AclNames): Promise<void> {
  const admin = kafkaClient(l.plaintext, PLAINTEXT).admin();
  await admin.connect();
  try {
    await grantAcls(admin, gatewayAcls(names, { includeLater: false }), `User:${l.gateway.username}`);
  } finally {
    await admin.disconnect();
  }
}

/** Gateway settings for the secured listener as the least-privilege gateway principal, ACLs granted for these topics. */
export async function securedGatewayEnv(l: SecuredListener, topic: string, stateTopic: string, clientId = 'hv-gateway', deadLetterTopic?: string, more: Partial<AclNames> = {}): Promise<Record<string, string>> {
  await grantGatewayAcls(l, { eventsTopic: topic, stateTopic, clientId, createTopics: true, ...(deadLetterTopic === undefined ? {} : { deadLetterTopic }), ...more });
  return {
    KAFKA_BROKERS: l.brokers.join(','),
    KAFKA_CLIENT_ID: clientId,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: l.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: l.gateway.username,
    KAFKA_SASL_PASSWORD: l.gateway.password,
  };
}

export async function createTopic(topic: string, partitions = 3, list: string[] = brokers): Promise<void> {
  const admin = kafkaClient(list).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A topic created a moment ago may still answer NOT_LEADER_FOR_PARTITION while its leaders
 * settle (seen under load): the project's own retry of what Kafka calls retriable, for 10 s.
 */
export const whileLeadersSettle = <T>(fn: () => Promise<T>): Promise<T> => retryUntil('reading topic offsets', Date.now() + 10_000, silentLogger, fn);

/** Sum of the high watermarks of every partition: the number of records ever appended. */
export async function topicEndOffset(topic: string, list: string[] = brokers): Promise<number> {
  const admin = kafkaClient(list).admin();
  await admin.connect();
  try {
    const offsets = await whileLeadersSettle(() => admin.fetchTopicOffsets(topic));
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

const headerStrings = (h: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));

/**
 * Read the topic from the beginning with a fresh consumer group until `count` distinct records
 * (partition, offset) arrived (or the timeout). A consumer may hand the same offsets over twice
 * (kafkajs re-delivers from the last commit after a rebalance); counting those would stop the read
 * early and make the log's last records look missing. Duplicates *in the log* (other offsets) stay.
 */
export async function readRecords(topic: string, count: number, timeoutMs = 30_000, list: string[] = brokers): Promise<ReadRecord[]> {
  const consumer = kafkaClient(list).consumer({ groupId: `hvg-test-${randomBytes(6).toString('hex')}`, sessionTimeout: 10_000 });
  const out: ReadRecord[] = [];
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message, partition }: { message: KafkaMessage; partition: number }) => {
            const at = `${partition}:${message.offset}`;
            if (seen.has(at)) return;
            seen.add(at);
            out.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers: headerStrings(message.headers), partition, offset: message.offset });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

/** A port p such that p … p+count-1 are free on 127.0.0.1 (p+1: the controller; p+2: a secured listener). */
export async function freePortPair(count = 2): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    let free = true;
    for (let k = 0; k < count && free; k++) free = await portFree(p + k);
    if (free) return p;
  }
  throw new Error('no free port pair');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A broker of our own (scripts/kafka.sh) for tests that stop and start it; `secured` adds the SASL_SSL listener on port+2. */
export class OwnBroker {
  readonly port: number;
  readonly #secured: boolean;
  constructor(port: number, opts: { secured?: boolean } = {}) {
    this.port = port;
    this.#secured = opts.secured ?? false;
  }
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  async start(keepData = false): Promise<void> {
    const env: Record<string, string | undefined> = { ...process.env, KAFKA_PORT: String(this.port), KAFKA_KEEP_DATA: keepData ? '1' : '0', KAFKA_HEAP: '384m' };
    env.KAFKA_SASL_PORT = this.#secured ? String(this.port + 2) : '';
    await run('bash', [`${ROOT}scripts/kafka.sh`, 'start'], { env, timeout: 180_000 });
  }
  /** the secured listener's address and users (after start) */
  async secured(): Promise<SecuredListener> {
    const { stdout } = await run('bash', [`${ROOT}scripts/kafka.sh`, 'env'], { env: { ...process.env, KAFKA_PORT: String(this.port) } });
    const vars = Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const l = listenerFrom(vars, [this.address]);
    if (!l) throw new Error(`broker ${this.address} has no secured listener`);
    return l;
  }
  async stop(): Promise<void> {
    await run('bash', [`${ROOT}scripts/kafka.sh`, 'stop'], { env: { ...process.env, KAFKA_PORT: String(this.port) }, timeout: 60_000 });
  }
  /** Freeze (SIGSTOP) or thaw (SIGCONT) this broker's process mid-request (the pid scripts/kafka.sh wrote). */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    const cache = process.env.HVG_CACHE_DIR ?? `${ROOT}.cache`;
    const pid = Number(readFileSync(`${cache}/kafka-run/${this.port}/broker.pid`, 'utf8').trim());
    process.kill(pid, sig);
  }
}
