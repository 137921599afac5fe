// The @platformatic/kafka adapter of the client-neutral interface (api.ts). Loaded only when
// KAFKA_CLIENT=platformatic. What differs from kafkajs, and why it is safe, is in README "Kafka
// clients" and src/sink/kafka-sink.ts; the points that matter here:
//  - idempotent + acks=all; retries bounded explicitly (the library turns `retries` ≤ 1 into
//    "retry forever" for idempotent producers, which would make a send outlive every bound);
//  - partitioning: Java's murmur2 & 0x7fffffff (murmur2.ts: the library's compatibilityPartitioner
//    in int32 arithmetic instead of BigInt, same values), the same partition for a key as kafkajs'
//    DefaultPartitioner and Java clients (the library's default partitioner uses `>>> 0` and would
//    move about half of the keys to another partition);
//  - after a send that failed for good the library drops its producer id and sequences itself
//    (a new id on the next send), and the sink replaces the producer anyway.
import { Admin, Producer, stringSerializer, type BaseOptions, type MessageToProduce, type SASLOptions } from '@platformatic/kafka';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { IdempotentProducer, KafkaAdmin, KafkaClient, KafkaClientConfig, PartitionState, ProducedPartition, RetrySettings } from './api.ts';
import { disconnectWithin } from './errors.ts';
import { javaCompatiblePartitioner } from './murmur2.ts';
import { platformaticJoinGroup, platformaticReadLog } from './platformatic-consumers.ts';
import type { TopicSpec } from './topics.ts';

const SASL = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** Exponential backoff with jitter, as kafkajs' retry settings describe it. */
export function retryDelay(r: RetrySettings): (client: object, operationId: string, attempt: number) => number {
  return (_c, _op, attempt) => Math.min(r.maxRetryTime, r.initialRetryTime * 2 ** Math.max(0, attempt - 1)) * (0.8 + Math.random() * 0.4);
}

/** Connection, TLS, SASL, timeouts and retries of every client built from this config. */
export function baseOptions(c: KafkaClientConfig): BaseOptions {
  const { connection: conn } = c;
  const retry = c.retry ?? { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 };
  const o: BaseOptions = {
    clientId: c.clientIdSuffix ? `${conn.clientId}-${c.clientIdSuffix}` : conn.clientId,
    bootstrapBrokers: [...conn.brokers],
    connectTimeout: c.connectionTimeoutMs ?? 3000,
    // at least 2: the library reads fewer as "retry forever" for idempotent producers
    retries: Math.max(2, retry.retries),
    retryDelay: retryDelay(retry),
  };
  if (c.requestTimeoutMs !== undefined) {
    o.requestTimeout = c.requestTimeoutMs;
    o.timeout = c.requestTimeoutMs;
  }
  const { tls, sasl } = conn.security;
  if (tls) {
    // undefined ca = Node's bundled CAs; rejectUnauthorized stays on (Node's default)
    const t: TlsOptions = {};
    if (tls.ca !== undefined) t.ca = [tls.ca];
    if (tls.cert !== undefined) t.cert = tls.cert;
    if (tls.key !== undefined) t.key = tls.key;
    if (tls.servername !== undefined) t.servername = tls.servername;
    o.tls = t;
  }
  if (sasl) {
    const s: SASLOptions = { mechanism: SASL[sasl.mechanism], username: sasl.username, password: sasl.password };
    o.sasl = s;
  }
  return o;
}

type Out = MessageToProduce<string, Buffer, string, string>;

async function connectProducer(c: KafkaClientConfig): Promise<IdempotentProducer> {
  const producer = new Producer<string, Buffer, string, string>({
    ...baseOptions(c),
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    partitioner: javaCompatiblePartitioner,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  // the library reports some background failures as 'error' events: never let one crash the process
  producer.on('error', () => {});
  try {
    // the "connect": a producer id from the broker (reachable, authenticated, authorised)
    await producer.initIdempotentProducer({});
  } catch (err) {
    await disconnectWithin({ disconnect: () => producer.close(true) });
    throw err;
  }
  return {
    async send(chunks, defaultTopic): Promise<ProducedPartition[]> {
      const messages: Out[] = [];
      for (const ch of chunks) {
        for (const r of ch.records) {
          // a null value stays absent: written as a null value (a tombstone)
          const m: Out = { topic: r.topic ?? defaultTopic, key: r.key };
          if (r.value !== null) m.value = r.value;
          if (r.headers !== undefined) m.headers = r.headers;
          messages.push(m);
        }
      }
      const result = await producer.send({ messages });
      return (result.offsets ?? []).map((p) => ({ topic: p.topic, partition: p.partition, baseOffset: Number(p.offset) }));
    },
    close: () => disconnectWithin({ disconnect: () => producer.close(true) }),
  };
}

function admin(c: KafkaClientConfig): KafkaAdmin {
  let a: Admin | null = null;
  const get = (): Admin => {
    if (a === null) {
      a = new Admin(baseOptions(c));
      a.on('error', () => {});
    }
    return a;
  };
  return {
    // the library connects on the first request; asking for the API versions proves the connection
    connect: async () => {
      await get().listApis();
    },
    listTopics: () => get().listTopics(),
    async createTopics(specs: readonly TopicSpec[]): Promise<void> {
      // one request per topic: the library applies `configs` to every topic of a request
      for (const spec of specs) {
        try {
          await get().createTopics({
            topics: [{ topic: spec.topic, partitions: spec.partitions, replicas: spec.replicationFactor }],
            configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
          });
        } catch (err) {
          // another replica created it meanwhile: fine; anything else is the caller's to judge
          if (!onlyAlreadyExists(err)) throw err;
        }
      }
    },
    async partitions(names: readonly string[]): Promise<Map<string, PartitionState[]>> {
      const meta = await get().metadata({ topics: [...names], forceUpdate: true, autocreateTopics: false });
      const out = new Map<string, PartitionState[]>();
      for (const [name, t] of meta.topics) out.set(name, t.partitions.map((p, i) => ({ partition: i, leader: p.leader, failed: false })));
      return out;
    },
    async endOffsets(topic: string): Promise<number[]> {
      const meta = await get().metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false });
      const n = meta.topics.get(topic)?.partitionsCount ?? 0;
      const partitions = Array.from({ length: n }, (_, i) => ({ partitionIndex: i, timestamp: -1n }));
      const listed = await get().listOffsets({ topics: [{ name: topic, partitions }] });
      const out: number[] = [];
      for (const t of listed) for (const p of t.partitions) out[p.partitionIndex] = Number(p.offset);
      return out;
    },
    close: async () => {
      if (a !== null) await disconnectWithin({ disconnect: () => a!.close() });
    },
  };
}

/** Every error in the tree is TOPIC_ALREADY_EXISTS. */
function onlyAlreadyExists(err: unknown): boolean {
  const leaves: { apiId?: string }[] = [];
  const walk = (e: unknown, depth: number) => {
    const x = e as { errors?: unknown[]; apiId?: string } | null;
    if (!x || depth > 5) return;
    if (Array.isArray(x.errors) && x.errors.length > 0) for (const inner of x.errors) walk(inner, depth + 1);
    else leaves.push(x);
  };
  walk(err, 0);
  return leaves.length > 0 && leaves.every((l) => l.apiId === 'TOPIC_ALREADY_EXISTS');
}

export function platformaticClient(config: KafkaClientConfig): KafkaClient {
  return {
    name: 'platformatic',
    admin: () => admin(config),
    explain: (err) => err,
    idempotentProducer: () => connectProducer(config),
    readLog: (o) => platformaticReadLog(baseOptions(config), o),
    joinGroup: (o) => platformaticJoinGroup(baseOptions(config), o),
  };
}
