// The subscription store: a single-partition compacted Kafka topic (like Kafka Connect's config
// topic). Records: `spec/<name>` → a SpecRecord (desired state, or a deletion marker that keeps
// the revision), `observed/<instance>/<name>` → an InstanceObservation written by the leader.
// Every replica consumes the whole topic from the beginning into its SubscriptionView; a write
// resolves only after the broker acknowledged it AND this replica applied it (read-your-writes).
//
// Concurrent edits from two replicas: each spec write carries revision = current + 1 and a
// random writeId; the view applies a spec record only if its revision is higher than the one it
// has, so all replicas agree the first one in the log won. The loser notices (its writeId is not
// the applied one), answers 412, and re-writes the winner's content with the next revision so
// that log compaction (which keeps the *last* record of a key) can never resurrect the loser.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { DEFAULT_KAFKA_CLIENT, loadKafkaClient, type Closable, type IdempotentProducer, type KafkaClient, type KafkaClientConfig, type KafkaClientName } from '../kafka/api.ts';
import { PLAINTEXT, type KafkaSecurity } from '../kafka/connection.ts';
import { classifyKafkaError, retryUntil } from '../kafka/errors.ts';
import type { KafkaLogLevel } from '../kafka/log.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { instanceReportKey, observationKey, specKey, type InstanceObservation, type InstanceReport, type SubscriptionSpec } from './model.ts';
import { SubscriptionView } from './view.ts';

export interface SubscriptionStoreOptions {
  brokers: readonly string[];
  clientId: string;
  topic: string;
  replicationFactor: number;
  connectTimeoutMs: number;
  /** how long a write waits to be acknowledged and applied */
  writeTimeoutMs: number;
  /** KEY_RETRY_HORIZON_MS, for the view's key acceptance */
  keyRetryHorizonMs: number;
  kafkaLogLevel: KafkaLogLevel;
  logger: Logger;
  /** TLS/SASL (default: plaintext) */
  security?: KafkaSecurity;
  /** KAFKA_CREATE_TOPICS (default true) */
  createTopics?: boolean;
  /** KAFKA_CLIENT (default kafkajs) */
  client?: KafkaClientName;
}

const encode = (v: unknown): Buffer | null => (v === null ? null : Buffer.from(JSON.stringify(v)));

export class SubscriptionStore {
  readonly view: SubscriptionView;
  readonly #o: SubscriptionStoreOptions;
  readonly #log: Logger;
  readonly #clientConfig: KafkaClientConfig;
  #kafka: KafkaClient | null = null;
  #producer: IdempotentProducer | null = null;
  #consumer: Closable | null = null;
  #loaded = false;
  #consumerDown: string | null = null;
  #downSince: number | null = null;
  #closed = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: SubscriptionStoreOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'subscription-store' });
    this.view = new SubscriptionView(options.keyRetryHorizonMs);
    this.#clientConfig = {
      connection: { brokers: options.brokers, clientId: options.clientId, security: options.security ?? PLAINTEXT },
      clientIdSuffix: 'store',
      requestTimeoutMs: Math.max(options.writeTimeoutMs, 5000),
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: options.kafkaLogLevel,
      logger: this.#log,
    };
  }

  /** Ensure the compacted topic, then read it to its end before resolving (the view is then complete). */
  async start(): Promise<void> {
    const { topic, connectTimeoutMs } = this.#o;
    const deadline = Date.now() + connectTimeoutMs;
    const fail = (what: string, err: unknown) =>
      new HvgError(err instanceof HvgError && err.code === 'HVG_ERR_KAFKA_FATAL' ? 'HVG_ERR_KAFKA_FATAL' : 'HVG_ERR_KAFKA_UNREACHABLE', `subscription store (${topic}, KAFKA_STATE_TOPIC): ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    let high: number;
    const kafka = await loadKafkaClient(this.#o.client ?? DEFAULT_KAFKA_CLIENT, this.#clientConfig);
    this.#kafka = kafka;
    const admin = kafka.admin();
    try {
      const topics = await ensureTopics(kafka, [{ topic, variable: 'KAFKA_STATE_TOPIC', partitions: 1, replicationFactor: this.#o.replicationFactor, configs: { 'cleanup.policy': 'compact' } }], {
        create: this.#o.createTopics ?? true,
        deadline,
        logger: this.#log,
      });
      const partitions = topics.get(topic)?.partitions ?? 0;
      if (partitions !== 1) throw new HvgError('HVG_ERR_KAFKA_FATAL', `topic has ${partitions} partitions; the store needs exactly 1`);
      await retryUntil('connecting to Kafka', deadline, this.#log, () => admin.connect());
      const offsets = await retryUntil('reading the end offset', deadline, this.#log, () => admin.endOffsets(topic));
      high = offsets[0] ?? 0;
    } catch (err) {
      throw fail('cannot prepare the topic', err);
    } finally {
      await admin.close().catch(() => {});
    }

    try {
      this.#producer = await retryUntil('connecting the store producer', deadline, this.#log, () => kafka.idempotentProducer());
      await retryUntil('joining the store consumer group', deadline, this.#log, () => this.#startConsumer());
    } catch (err) {
      await this.close();
      throw fail('cannot connect', err);
    }
    if (high > 0) {
      const remaining = Math.max(1000, deadline - Date.now());
      await this.view.waitForOffset(high - 1, remaining).catch(async (err: unknown) => {
        await this.close();
        throw fail('cannot read it to its end', err);
      });
    }
    this.#loaded = true;
    this.#log.info({ topic, records: high, specs: this.view.specs().length }, 'subscription store loaded');
  }

  /**
   * A fresh consumer group reading from offset 0 (nothing is committed). The client's own
   * restart after a crash is off (kafkajs': it can outlive disconnect() and keep the process
   * alive), so the store restarts the reader itself — replaying the log is idempotent (spec
   * revisions only move forward, observations are applied in log order).
   */
  async #startConsumer(): Promise<void> {
    const kafka = this.#kafka;
    if (kafka === null) throw new Error('the store was not started');
    let reader: Closable | null = null;
    reader = await kafka.readLog({
      topic: this.#o.topic,
      groupId: `${this.#o.clientId}-store-${randomBytes(6).toString('hex')}`,
      maxWaitMs: 100,
      sessionTimeoutMs: 30_000,
      onRecord: (key, raw, offset) => {
        let value: unknown = null;
        if (raw !== null) {
          try {
            value = JSON.parse(raw.toString());
          } catch (err) {
            this.#log.error({ err, key, offset }, 'unreadable store record skipped');
            return;
          }
        }
        this.view.apply(key, value, offset);
      },
      onCrash: (error) => {
        if (reader === null || this.#consumer !== reader) return;
        this.#consumer = null;
        this.#consumerDown = error instanceof Error ? error.message : String(error);
        this.#downSince ??= Date.now();
        // a coordinator loading or moving passes by itself: restart quietly
        const fatal = classifyKafkaError(kafka.explain(error), 'the store consumer').kind === 'fatal';
        this.#log[fatal ? 'error' : 'debug']({ err: error }, 'store consumer stopped; restarting it');
        this.#restartTimer = setTimeout(() => void this.#restartConsumer(1), 500);
        this.#restartTimer.unref();
      },
    });
    if (this.#closed) {
      await reader.close();
      return;
    }
    this.#consumer = reader;
    this.#consumerDown = null;
    this.#downSince = null;
  }

  async #restartConsumer(attempt: number): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#startConsumer();
      this.#log.info({ attempt }, 'store consumer restarted');
    } catch (err) {
      if (this.#closed) return;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      // quiet while it may still be a starting cluster; an error once it outlasts the connect timeout
      const f = classifyKafkaError(this.#kafka?.explain(err) ?? err, 'the store consumer');
      const long = Date.now() - (this.#downSince ?? Date.now()) > this.#o.connectTimeoutMs;
      this.#log[f.kind === 'fatal' || long ? 'error' : 'debug']({ err: f.message, attempt, retryInMs: Math.round(delay) }, 'store consumer restart failed');
      this.#restartTimer = setTimeout(() => void this.#restartConsumer(attempt + 1), delay);
      this.#restartTimer.unref();
    }
  }

  isLoaded(): boolean {
    return this.#loaded && this.#consumerDown === null;
  }

  /** Append one record and wait until this replica applied it. Writes are serialised per replica. */
  async #append(key: string, value: unknown): Promise<number> {
    const run = async (): Promise<number> => {
      if (!this.#producer || !this.#loaded) throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', 'the subscription store is not loaded; retry later');
      let offset: number;
      try {
        const [meta] = await this.#producer.send([{ records: [{ key, value: encode(value) }] }], this.#o.topic);
        offset = meta?.baseOffset ?? Number.NaN;
      } catch (err) {
        throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', `Kafka did not acknowledge the subscription change: ${(err as Error).message}; retry`, { cause: err });
      }
      await this.view.waitForOffset(offset, this.#o.writeTimeoutMs).catch((err: unknown) => {
        throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', `the change was written but not read back in time: ${(err as Error).message}`, { cause: err });
      });
      return offset;
    };
    const p = this.#writes.then(run, run);
    this.#writes = p.catch(() => {});
    return p;
  }

  /**
   * Write a spec (or a deletion marker) with revision = expected + 1. Resolves true when it won,
   * false when another replica's write for the same name got there first (the caller answers 412).
   */
  async writeSpec(record: SubscriptionSpec | { name: string; deleted: true; revision: number; keyVersion?: number }): Promise<boolean> {
    const writeId = randomBytes(8).toString('hex');
    await this.#append(specKey(record.name), { ...record, writeId });
    const won = this.view.lastSpecWrite(record.name);
    if (won?.writeId === writeId) return true;
    if (won) {
      // re-assert the winner after our record so compaction keeps the winner's content
      const { writeId: _w, ...winner } = won;
      await this.#append(specKey(record.name), { ...winner, revision: winner.revision + 1, writeId: randomBytes(8).toString('hex') });
    }
    return false;
  }

  async writeObservation(o: InstanceObservation): Promise<void> {
    await this.#append(observationKey(o.instanceId, o.name), o);
  }

  async writeReport(r: InstanceReport): Promise<void> {
    await this.#append(instanceReportKey(r.instanceId), r);
  }

  /** Any replica may ask the leader for a pass: the leader watches this key. */
  async requestReconcile(): Promise<void> {
    await this.#append('request/reconcile', { at: new Date().toISOString() });
  }

  async deleteObservation(instanceId: string, name: string): Promise<void> {
    await this.#append(observationKey(instanceId, name), null);
  }

  async close(): Promise<void> {
    this.#loaded = false;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const c = this.#consumer;
    const p = this.#producer;
    this.#consumer = null;
    this.#producer = null;
    // bounded: leaving the group or flushing must not hang shutdown while Kafka is down
    await Promise.all([c?.close(), p?.close()]);
  }
}
