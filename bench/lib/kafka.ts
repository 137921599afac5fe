// Kafka admin helpers for the correctness gate: fresh topics and the sum of high watermarks
// (records ever appended), read before and after each measured run. It connects like every
// project client: the KAFKA_SSL*/KAFKA_SASL_* settings of the environment (src/kafka/).
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { KafkaClientName } from '../../src/kafka/api.ts';
import { createKafkaClient, kafkaConnectionFromEnv, type KafkaSecurity } from '../../src/kafka/index.ts';
import { whileLeadersSettle } from '../../support/kafka.ts';

/** The id of a Kafka-ceiling row per client: K_js (kafkajs), K_plt (@platformatic/kafka). */
export const kId = (client: KafkaClientName): string => (client === 'kafkajs' ? 'K_js' : 'K_plt');

export function benchTopic(name: string): string {
  return `bench.${name}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

export class KafkaAdmin {
  readonly #admin: Admin;
  #connected = false;

  constructor(brokers: readonly string[], security: KafkaSecurity = kafkaConnectionFromEnv(process.env, 'hvg-bench-admin').security) {
    const kafka = createKafkaClient({ connection: { brokers, clientId: 'hvg-bench-admin', security }, retry: { retries: 5, initialRetryTime: 100 } });
    this.#admin = kafka.admin();
  }

  async #ensure(): Promise<Admin> {
    if (!this.#connected) {
      await this.#admin.connect();
      this.#connected = true;
    }
    return this.#admin;
  }

  async createTopic(topic: string, partitions = 6): Promise<void> {
    const admin = await this.#ensure();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  }

  /** Sum of the high watermarks of every partition of `topic`. */
  async appended(topic: string): Promise<number> {
    const admin = await this.#ensure();
    // right after the topic was created its leaders may still settle (it failed a whole K row once)
    const offsets = await whileLeadersSettle(() => admin.fetchTopicOffsets(topic));
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#admin.disconnect().catch(() => {});
    this.#connected = false;
  }
}

/**
 * The correctness gate of one run. `acked` = records of requests answered 2xx (or of publishes
 * that resolved); `failedRecords` = records of requests that got an error; `appended` = offset
 * delta over the run. In an exact run (every request got its answer before the offsets were
 * read) nothing acknowledged may be missing (appended ≥ acked) and nothing may appear that no
 * request explains (appended ≤ acked + failedRecords: a request answered 503 may still have been
 * written, at-least-once). With no failures that is appended == acked: no loss, no duplicates.
 * Runs cut off by a duration (warm-up, sweep) can only be checked for loss.
 */
export interface Gate {
  acked: number;
  appended: number;
  failedRecords: number;
  exact: boolean;
  ok: boolean;
}

export function gate(acked: number, appended: number, failedRecords: number, exact: boolean): Gate {
  const ok = appended >= acked && (!exact || appended <= acked + failedRecords);
  return { acked, appended, failedRecords, exact, ok };
}
