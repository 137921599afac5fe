// The client-neutral Kafka interface: exactly what the gateway asks of a Kafka client, and no
// more. The sink, the subscription store and leadership use only this; an adapter per library
// (kafkajs-adapter.ts, platformatic-adapter.ts) implements it, chosen by KAFKA_CLIENT. The chosen
// adapter is imported lazily, so the library that is not chosen is never loaded (no memory, no
// start-up cost). Nothing here imports a Kafka library at run time.
import type { Logger } from 'pino';
import type { KafkaConnection } from './connection.ts';
import type { KafkaLogLevel } from './log.ts';
import type { TopicSpec } from './topics.ts';

export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];
/** The default of KAFKA_CLIENT (switching it is this one line; see README "Kafka clients"). */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'platformatic';

/** One record to produce; no topic = the send's default topic. A null value is a tombstone. */
export interface OutRecord {
  readonly topic?: string;
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProducedPartition {
  topic: string;
  partition: number;
  /** offset of the first record of this send in that partition */
  baseOffset: number;
}

/**
 * A connected idempotent producer (acks=all, Java-compatible murmur2 partitioning of the key).
 * send() carries the records of all chunks in one request per broker and resolves only once the
 * broker acknowledged every one of them; it rejects when any was not acknowledged. The caller
 * keeps one send in flight per producer (see src/sink/kafka-sink.ts).
 */
export interface IdempotentProducer {
  send(chunks: readonly { readonly records: readonly OutRecord[] }[], defaultTopic: string): Promise<ProducedPartition[]>;
  /** bounded: resolves even when the broker is gone */
  close(): Promise<void>;
}

export interface PartitionState {
  partition: number;
  /** -1 = no leader */
  leader: number;
  /** the metadata reported an error for this partition */
  failed: boolean;
}

/** What ensureTopics and the store's start need of an admin client. */
export interface KafkaAdmin {
  connect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** create these topics; topics that exist meanwhile (another replica) are not an error */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** partition states per topic, as the metadata has them (a topic missing from the map is not in the metadata) */
  partitions(topics: readonly string[]): Promise<Map<string, PartitionState[]>>;
  /** high watermark of every partition of the topic, by partition */
  endOffsets(topic: string): Promise<number[]>;
  close(): Promise<void>;
}

export interface Closable {
  /** bounded: resolves even when the broker is gone */
  close(): Promise<void>;
}

export interface LogReaderOptions {
  topic: string;
  /** a fresh group per start: nothing is committed, reading starts at offset 0 */
  groupId: string;
  maxWaitMs: number;
  sessionTimeoutMs: number;
  onRecord(key: string, value: Buffer | null, offset: number): void;
  /** the reader stopped for good (the owner starts a new one); err as the classifier should see it */
  onCrash(err: unknown): void;
}

export interface MembershipOptions {
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  /** joined (again): the partitions of `topic` this member was assigned */
  onJoin(memberId: string, partitions: readonly number[]): void;
  /** the assignment is no longer valid (rebalancing, stopped, disconnected): lead nothing until the next onJoin */
  onRevoke(why: string): void;
  /** the membership ended for good (the owner joins anew); err as the classifier should see it */
  onCrash(err: unknown): void;
}

export interface RetrySettings {
  retries: number;
  initialRetryTime: number;
  maxRetryTime: number;
}

/** What every client is built from, whichever the library (client.ts builds kafkajs' from it too). */
export interface KafkaClientBase {
  connection: KafkaConnection;
  /** appended to the connection's client id ("hv-gateway-store") so broker logs tell the clients apart */
  clientIdSuffix?: string;
  /** no logger = the client stays silent (scripts, test observers) */
  logger?: Logger;
  logLevel?: KafkaLogLevel;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface KafkaClientConfig extends KafkaClientBase {
  retry?: RetrySettings;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  admin(): KafkaAdmin;
  /** a new, connected idempotent producer (its own producer id) */
  idempotentProducer(): Promise<IdempotentProducer>;
  /** read the whole topic from offset 0 and keep following it; resolves once the group is joined */
  readLog(o: LogReaderOptions): Promise<Closable>;
  /** join a consumer group only to be assigned partitions (nothing is read or committed); resolves once joined */
  joinGroup(o: MembershipOptions): Promise<Closable>;
  /** the error to classify behind a library's wrapper (kafkajs hides a missing group ACL behind "coordinator not found") */
  explain(err: unknown): unknown;
}

/** Load only the chosen library and build a client of it. */
export async function loadKafkaClient(name: KafkaClientName, config: KafkaClientConfig): Promise<KafkaClient> {
  if (name === 'platformatic') {
    const { platformaticClient } = await import('./platformatic-adapter.ts');
    return platformaticClient(config);
  }
  const { kafkajsClient } = await import('./kafkajs-adapter.ts');
  return kafkajsClient(config);
}
