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
import { Kafka, Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { KAFKA_LOG_LEVELS, pinoLogCreator } from '../sink/kafka-log.ts';
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
  kafkaLogLevel: keyof typeof KAFKA_LOG_LEVELS;
  logger: Logger;
}

const encode = (v: unknown): Buffer | null => (v === null ? null : Buffer.from(JSON.stringify(v)));

export class SubscriptionStore {
  readonly view: SubscriptionView;
  readonly #o: SubscriptionStoreOptions;
  readonly #log: Logger;
  readonly #kafka: Kafka;
  #producer: Producer | null = null;
  #consumer: Consumer | null = null;
  #loaded = false;
  #consumerDown: string | null = null;
  #closed = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: SubscriptionStoreOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'subscription-store' });
    this.view = new SubscriptionView(options.keyRetryHorizonMs);
    this.#kafka = new Kafka({
      clientId: `${options.clientId}-store`,
      brokers: [...options.brokers],
      connectionTimeout: 3000,
      requestTimeout: Math.max(options.writeTimeoutMs, 5000),
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: KAFKA_LOG_LEVELS[options.kafkaLogLevel],
      logCreator: pinoLogCreator(this.#log.child({ module: 'kafkajs' })),
    });
  }

  /** Ensure the compacted topic, then read it to its end before resolving (the view is then complete). */
  async start(): Promise<void> {
    const { topic, connectTimeoutMs } = this.#o;
    const deadline = Date.now() + connectTimeoutMs;
    const fail = (what: string, err: unknown) =>
      new HvgError('HVG_ERR_KAFKA_UNREACHABLE', `subscription store (${topic}, KAFKA_STATE_TOPIC): ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    const admin = this.#kafka.admin();
    let high: number;
    try {
      await admin.connect();
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: 1, replicationFactor: this.#o.replicationFactor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        })
        .catch((err: { type?: string }) => {
          if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
        });
      const offsets = await admin.fetchTopicOffsets(topic);
      if (offsets.length !== 1) throw new Error(`topic has ${offsets.length} partitions; the store needs exactly 1`);
      high = Number(offsets[0]!.high);
    } catch (err) {
      throw fail('cannot prepare the topic', err);
    } finally {
      await admin.disconnect().catch(() => {});
    }

    this.#producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await this.#producer.connect();
      await this.#startConsumer();
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
   * A fresh consumer group reading from offset 0 (nothing is committed). kafkajs' own restart
   * after a crash is off: it can outlive disconnect() and keep the process alive, so the store
   * restarts the consumer itself — replaying the log is idempotent (spec revisions only move
   * forward, observations are applied in log order).
   */
  async #startConsumer(): Promise<void> {
    const consumer = this.#kafka.consumer({
      groupId: `${this.#o.clientId}-store-${randomBytes(6).toString('hex')}`,
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#consumer !== consumer) return;
      this.#consumerDown = payload.error.message;
      this.#log.error({ err: payload.error }, 'store consumer stopped; restarting it');
      this.#consumer = null;
      void consumer.disconnect().catch(() => {});
      this.#restartTimer = setTimeout(() => void this.#restartConsumer(1), 500);
      this.#restartTimer.unref();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.#o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        let value: unknown = null;
        if (message.value !== null) {
          try {
            value = JSON.parse(message.value.toString());
          } catch (err) {
            this.#log.error({ err, key, offset: message.offset }, 'unreadable store record skipped');
            return;
          }
        }
        this.view.apply(key, value, Number(message.offset));
      },
    });
    this.#consumerDown = null;
  }

  async #restartConsumer(attempt: number): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#startConsumer();
      this.#log.info({ attempt }, 'store consumer restarted');
    } catch (err) {
      const c = this.#consumer;
      this.#consumer = null;
      void c?.disconnect().catch(() => {});
      if (this.#closed) return;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      this.#log.warn({ err: (err as Error).message, attempt, retryInMs: Math.round(delay) }, 'store consumer restart failed');
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
        const [meta] = await this.#producer.send({ topic: this.#o.topic, acks: -1, timeout: this.#o.writeTimeoutMs, messages: [{ key, value: encode(value) }] });
        offset = Number(meta?.baseOffset ?? meta?.offset);
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
    const bounded = (x: Promise<void> | undefined) => (x ? Promise.race([x.catch(() => {}), new Promise<void>((r) => setTimeout(r, 5000).unref())]) : undefined);
    await Promise.all([bounded(c?.disconnect()), bounded(p?.disconnect())]);
  }
}
