// The Kafka sink's options and its per-publish bookkeeping (kafka-sink.ts).
import type { Logger } from 'pino';
import type { HvgError } from '../errors.ts';
import type { KafkaClientName } from '../kafka/api.ts';
import type { KafkaSecurity } from '../kafka/connection.ts';
import type { KafkaLogLevel } from '../kafka/log.ts';
import type { SinkRecord } from './record.ts';

export interface KafkaSinkOptions {
  brokers: readonly string[];
  clientId: string;
  topic: string;
  partitions: number;
  /** -1 = broker default */
  replicationFactor: number;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  maxQueuedRecords: number;
  /**
   * KAFKA_LINGER_MS: how long a send may wait for more records once the previous one is
   * acknowledged, counted from the oldest queued record (Java's linger.ms). 0 (the default here) =
   * natural batching only.
   */
  lingerMs?: number;
  /**
   * KAFKA_SEND_INTERVAL_MS: the least time between the starts of two sends while records keep
   * coming; a record after a quiet spell goes at once. 0 = natural batching only.
   */
  sendIntervalMs?: number;
  kafkaLogLevel: KafkaLogLevel;
  logger: Logger;
  /** TLS/SASL (default: plaintext) */
  security?: KafkaSecurity;
  /** KAFKA_CREATE_TOPICS (default true) */
  createTopics?: boolean;
  /** further topics records may name (SinkRecord.topic), ensured at start with the same partitions and replication */
  extraTopics?: readonly { topic: string; variable: string }[];
  /** KAFKA_CLIENT (default kafkajs) */
  client?: KafkaClientName;
  /** the setting that names `topic`, for messages (default KAFKA_TOPIC; the enrichment stage's sink: KAFKA_THINGS_TOPIC) */
  topicVariable?: string;
}

export interface Pending {
  readonly records: readonly SinkRecord[];
  readonly bytes: number;
  /** performance.now() when it was queued (linger is counted from the oldest) */
  readonly at: number;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(err: HvgError): void;
}
