// The state log over Kafka (state-log.ts): a single-partition compacted topic (like Kafka
// Connect's config topic) with the records of state-keys.ts. Every replica consumes the whole
// topic from the beginning into its StateView; an append resolves only after the broker
// acknowledged it AND this replica applied it (read-your-writes). Appends that arrive while a
// send is in flight go out together in the next send (one produce request, one read-back wait):
// a reconcile pass over 32 instances costs a few round trips, not one per observation.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { backoffDelay } from '../retry.ts';
import { DEFAULT_KAFKA_CLIENT, loadKafkaClient, type Closable, type IdempotentProducer, type KafkaClient, type KafkaClientConfig, type KafkaClientName } from '../kafka/api.ts';
import { PLAINTEXT, type KafkaSecurity } from '../kafka/connection.ts';
import { classifyKafkaError, retryUntil } from '../kafka/errors.ts';
import type { KafkaLogLevel } from '../kafka/log.ts';
import { ensureTopics } from '../kafka/topics.ts';
import type { InstanceObservation } from './model.ts';
import { entryKey, entryValue, type StateEntry } from './state-keys.ts';
import { requestReconcile, writeSpec, type SpecWrite, type StateLog } from './state-log.ts';
import { StateView } from './view.ts';

export interface KafkaStateLogOptions {
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
/** bound on one produce request (the broker's default message.max.bytes is 1 MiB) */
const MAX_BATCH_BYTES = 512 * 1024;

export class KafkaStateLog implements StateLog {
  readonly view: StateView;
  readonly #o: KafkaStateLogOptions;
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
  /** appends waiting for the next send (one produce request for all of them) */
  #queue: { entries: readonly StateEntry[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #sending = false;

  constructor(options: KafkaStateLogOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'subscription-store' });
    this.view = new StateView(options.keyRetryHorizonMs);
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
      const delay = backoffDelay(attempt, { baseMs: 1000, maxMs: 10_000, jitter: 'equal' });
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

  append(entries: readonly StateEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queue.push({ entries, resolve, reject });
      void this.#drain();
    });
  }

  /**
   * One send in flight: whatever was appended meanwhile goes out in the next one, whole appends
   * only, in call order (so each append stays contiguous), bounded by MAX_BATCH_BYTES.
   */
  async #drain(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0) {
        let bytes = 0;
        let n = 0;
        const messages: { key: string; value: Buffer | null }[] = [];
        for (const a of this.#queue) {
          const encoded = a.entries.map((e) => ({ key: entryKey(e), value: encode(entryValue(e)) }));
          const size = encoded.reduce((sum, m) => sum + m.key.length + (m.value?.length ?? 0), 0);
          if (n > 0 && bytes + size > MAX_BATCH_BYTES) break;
          messages.push(...encoded);
          bytes += size;
          n++;
        }
        const batch = this.#queue.splice(0, n);
        await this.#send(messages).then(
          () => batch.forEach((a) => a.resolve()),
          (err: unknown) => batch.forEach((a) => a.reject(err)),
        );
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Produce the messages in one request and wait until this replica applied the last of them. */
  async #send(messages: { key: string; value: Buffer | null }[]): Promise<void> {
    if (!this.#producer || !this.#loaded) throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', 'the subscription store is not loaded; retry later');
    let last: number;
    try {
      const [meta] = await this.#producer.send([{ records: messages }], this.#o.topic);
      // one partition, one batch: the broker gave the messages consecutive offsets from baseOffset
      last = (meta?.baseOffset ?? Number.NaN) + messages.length - 1;
    } catch (err) {
      throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', `Kafka did not acknowledge the subscription change: ${(err as Error).message}; retry`, { cause: err });
    }
    await this.view.waitForOffset(last, this.#o.writeTimeoutMs).catch((err: unknown) => {
      throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', `the change was written but not read back in time: ${(err as Error).message}`, { cause: err });
    });
  }

  // Conveniences over append (routes and tests); the control loop uses state-log.ts directly.
  writeSpec(record: SpecWrite): Promise<boolean> {
    return writeSpec(this, record);
  }

  writeObservation(o: InstanceObservation): Promise<void> {
    return this.append([{ kind: 'observation', instanceId: o.instanceId, name: o.name, observation: o }]);
  }

  requestReconcile(): Promise<void> {
    return requestReconcile(this);
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
