// The Kafka sink: publish(records) resolves only once the broker acknowledged them (acks=all,
// idempotent producer). kafkajs has no linger and is only safe for idempotence with one send in
// flight, so the sink keeps exactly one send in flight and batches everything that arrives
// meanwhile into the next send ("natural batching": bigger batches under load). Two rules make
// fewer, fuller produce requests at moderate rates, each of which costs a socket write, a broker
// round trip and a wake-up: KAFKA_SEND_INTERVAL_MS (default 2) — a send starts no sooner than
// that after the previous one started (a record after a quiet spell goes at once) — and
// KAFKA_LINGER_MS (default 0, Java's linger.ms: the oldest queued record waits that long); a full
// batch or closing sends at once. See docs/architecture.md "Sink" and README "Performance".
// The client library (KAFKA_CLIENT: kafkajs or @platformatic/kafka) is behind the client-neutral
// IdempotentProducer of src/kafka/api.ts; the rules below hold for both (README "Kafka clients"
// says per client why).
//
// Failure handling, the part that keeps "200 means Kafka has it" true:
//  - every publish has a deadline (KAFKA_PUBLISH_TIMEOUT_MS); past it the caller gets a coded,
//    retriable error, whether the records were still queued or in flight;
//  - after any failed or abandoned send the producer is replaced (a new producer id). kafkajs
//    rolls its sequence numbers back when a request fails, so reusing the producer after a send
//    whose outcome is unknown could make the broker take the *next* batch for a duplicate of
//    the one that did land, and acknowledge records it never wrote. @platformatic/kafka drops
//    its producer id itself after a failed send, so there the replacement is not needed for
//    correctness; it is kept for both because it also ends an abandoned send's retries (closing
//    the client) and drives the reconnecting state below (test/sink/kafka-sink-broker-loss.test.ts);
//  - while no producer is connected, publishes fail at once (fast 503) and a background loop
//    reconnects with jittered backoff; readiness follows that state.
// A record may name another topic the sink ensured at start (the dead-letter topic): one send
// still carries the whole batch, grouped per topic (sendBatch), so every rule above holds for
// every topic alike and a publish mixing topics is acknowledged all together or not at all.
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { DEFAULT_KAFKA_CLIENT, loadKafkaClient, type IdempotentProducer, type KafkaClient, type KafkaClientConfig } from '../kafka/api.ts';
import { describeConnection, PLAINTEXT } from '../kafka/connection.ts';
import { retryUntil } from '../kafka/errors.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { backoffDelay, settleWithin, withTimeout } from '../retry.ts';
import type { KafkaSinkOptions, Pending } from './kafka-sink-options.ts';
import { PendingQueue } from './pending-queue.ts';
import { recordBytes, type SinkRecord } from './record.ts';
import type { Sink, SinkState, SinkStats } from './sink.ts';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class KafkaSink implements Sink {
  readonly #o: KafkaSinkOptions;
  readonly #log: Logger;
  readonly #clientConfig: KafkaClientConfig;
  #kafka: KafkaClient | null = null;
  /** topics a record may name besides the events topic */
  readonly #extraTopics: ReadonlySet<string>;
  #producer: IdempotentProducer | null = null;
  #state: SinkState = 'starting';
  readonly #queue = new PendingQueue();
  #inFlight = false;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the last send started (KAFKA_SEND_INTERVAL_MS counts from it) */
  #lastSendAt = -Infinity;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectAttempt = 0;
  #idle: (() => void) | null = null;
  #s = { sends: 0, recordsAcked: 0, sendFailures: 0, publishTimeouts: 0, producerResets: 0, lastError: null as string | null };

  constructor(options: KafkaSinkOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'sink' });
    this.#extraTopics = new Set((options.extraTopics ?? []).map((t) => t.topic).filter((t) => t !== options.topic));
    const requestTimeout = Math.max(1000, Math.min(options.publishTimeoutMs, 30_000));
    this.#clientConfig = {
      connection: { brokers: options.brokers, clientId: options.clientId, security: options.security ?? PLAINTEXT },
      connectionTimeoutMs: Math.min(3000, options.connectTimeoutMs),
      requestTimeoutMs: requestTimeout,
      // bounded: a send settles in bounded time; the producer is replaced after a failure
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: options.kafkaLogLevel,
      logger: this.#log,
    };
  }

  /**
   * Ensure the topic, connect the producer; transient states of a starting cluster are retried
   * quietly, and within connectTimeoutMs this resolves or rejects with a coded error
   * (HVG_ERR_KAFKA_UNREACHABLE, or HVG_ERR_KAFKA_FATAL for credentials, ACLs, certificates).
   */
  async start(): Promise<void> {
    const { topic, partitions, replicationFactor, connectTimeoutMs } = this.#o;
    const deadline = Date.now() + connectTimeoutMs;
    const where = `${this.#o.brokers.join(',')} (KAFKA_BROKERS)`;
    // a fatal error (credentials, ACL, certificate, topic) already says what to fix; anything else is "unreachable"
    const fail = (cause: unknown) =>
      cause instanceof HvgError && cause.code === 'HVG_ERR_KAFKA_FATAL'
        ? cause
        : new HvgError('HVG_ERR_KAFKA_UNREACHABLE', `cannot reach Kafka at ${where} within ${connectTimeoutMs} ms: ${messageOf(cause)}`, { cause });
    try {
      const kafka = await loadKafkaClient(this.#o.client ?? DEFAULT_KAFKA_CLIENT, this.#clientConfig);
      this.#kafka = kafka;
      const topics = await withTimeout(
        ensureTopics(
          kafka,
          [{ topic, variable: this.#o.topicVariable ?? 'KAFKA_TOPIC', partitions, replicationFactor }, ...(this.#o.extraTopics ?? []).filter((t) => this.#extraTopics.has(t.topic)).map((t) => ({ ...t, partitions, replicationFactor }))],
          { create: this.#o.createTopics ?? true, deadline, logger: this.#log }),
        connectTimeoutMs + 1000,
        () => new Error('timed out'),
      );
      const have = topics.get(topic)?.partitions ?? 0;
      if (have !== partitions) this.#log.warn({ topic, partitions: have, configured: partitions }, 'topic exists with another partition count; keeping it');
      this.#producer = await retryUntil('connecting the producer', deadline, this.#log, () =>
        withTimeout(this.#connectProducer(), Math.max(1000, deadline - Date.now()), () => new Error('producer connect timed out')),
      );
    } catch (err) {
      this.#state = 'closed';
      throw fail(err);
    }
    this.#state = 'ready';
    // where and as whom (user name and mechanism only, never the password)
    this.#log.info({ topic, client: this.#kafka.name, ...(this.#extraTopics.size > 0 ? { extraTopics: [...this.#extraTopics] } : {}), ...describeConnection({ brokers: this.#o.brokers, clientId: this.#o.clientId, security: this.#o.security ?? PLAINTEXT }) }, 'Kafka sink ready');
  }

  /** idempotent, acks=all, Java-compatible murmur2 partitioning (same key → same partition with either client and Java's) */
  async #connectProducer(): Promise<IdempotentProducer> {
    if (this.#kafka === null) throw new Error('the sink was not started');
    return this.#kafka.idempotentProducer();
  }

  isReady(): boolean {
    return this.#state === 'ready';
  }

  stats(): SinkStats {
    return { state: this.#state, queuedRecords: this.#queue.records, inFlight: this.#inFlight, ...this.#s };
  }

  publish(records: readonly SinkRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.#state !== 'ready') {
      const closed = this.#state === 'closing' || this.#state === 'closed';
      return Promise.reject(
        closed
          ? new HvgError('HVG_ERR_SINK_CLOSED', 'the gateway is shutting down; retry against another replica')
          : new HvgError('HVG_ERR_KAFKA_UNREACHABLE', `Kafka is unreachable (${this.#s.lastError ?? 'reconnecting'}); retry later`),
      );
    }
    if (this.#queue.records + records.length > this.#o.maxQueuedRecords) {
      return Promise.reject(new HvgError('HVG_ERR_SINK_OVERLOADED', `more than ${this.#o.maxQueuedRecords} records wait for Kafka (KAFKA_MAX_QUEUED_RECORDS); retry later`));
    }
    let bytes = 0;
    for (const r of records) {
      // a topic the sink did not ensure would fail the send and cost a producer: refuse it here (a bug, not the caller's input)
      if (r.topic !== undefined && r.topic !== this.#o.topic && !this.#extraTopics.has(r.topic)) {
        return Promise.reject(new HvgError('HVG_ERR_INTERNAL', `record for topic ${r.topic}, which the sink was not started with`));
      }
      bytes += recordBytes(r);
    }
    if (bytes > this.#o.maxBatchBytes) {
      return Promise.reject(new HvgError('HVG_ERR_RECORD_TOO_LARGE', `${records.length} record(s) of ${bytes} bytes exceed KAFKA_MAX_BATCH_BYTES (${this.#o.maxBatchBytes})`));
    }
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { records, bytes, at: performance.now(), settled: false, timer: undefined, resolve, reject };
      p.timer = setTimeout(() => this.#timeout(p), this.#o.publishTimeoutMs);
      this.#queue.push(p);
      this.#pump();
    });
  }

  #settle(p: Pending, err?: HvgError): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
  }

  #timeout(p: Pending): void {
    if (p.settled) return;
    this.#s.publishTimeouts++;
    this.#settle(p, new HvgError('HVG_ERR_KAFKA_TIMEOUT', `Kafka did not acknowledge within ${this.#o.publishTimeoutMs} ms (KAFKA_PUBLISH_TIMEOUT_MS); retry later`));
  }

  /** `timerFired`: called by the batching timer, whose wait is over by the event loop's clock. */
  #pump(timerFired = false): void {
    if (this.#inFlight || this.#state === 'closed' || this.#producer === null) return this.#checkIdle();
    // closing flushes at once
    const now = performance.now();
    const wait = this.#state === 'ready' ? this.#queue.waitLeft({ lingerMs: this.#o.lingerMs ?? 0, sendIntervalMs: this.#o.sendIntervalMs ?? 0, lastSendAt: this.#lastSendAt }, this.#o, now) : 0;
    // A timer counts from the loop's cached, whole-millisecond clock, so it can fire up to a loop
    // turn before performance.now() says the wait is over; what is left then is less than a turn
    // and not worth another timer and wake-up.
    if (wait > 0 && !(timerFired && wait < 1)) {
      this.#lingerTimer ??= setTimeout(() => {
        this.#lingerTimer = undefined;
        this.#pump(true);
      }, wait);
      return;
    }
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    const batch = this.#queue.takeBatch(this.#o);
    if (batch.length === 0) return this.#checkIdle();
    const producer = this.#producer;
    this.#inFlight = true;
    this.#lastSendAt = now;
    this.#s.sends++;
    let count = 0;
    for (const p of batch) count += p.records.length;
    // Safety net: a send that outlives twice the publish bound is abandoned with its producer.
    withTimeout(producer.send(batch, this.#o.topic), 2 * this.#o.publishTimeoutMs, () => new Error('send abandoned after 2 × KAFKA_PUBLISH_TIMEOUT_MS'))
      .then(
        () => {
          this.#s.recordsAcked += count;
          for (const p of batch) this.#settle(p);
        },
        (err: unknown) => {
          this.#s.sendFailures++;
          this.#s.lastError = messageOf(err);
          this.#log.warn({ err, records: count }, 'Kafka send failed; replacing the producer');
          const e = new HvgError('HVG_ERR_KAFKA_PRODUCE', `Kafka did not acknowledge the records: ${messageOf(err)}; retry later`, { cause: err });
          for (const p of batch) this.#settle(p, e);
          this.#replaceProducer(producer);
        },
      )
      .finally(() => {
        this.#inFlight = false;
        this.#pump();
      });
  }

  #replaceProducer(old: IdempotentProducer): void {
    if (this.#producer !== old) return;
    this.#producer = null;
    this.#s.producerResets++;
    void old.close().catch(() => {});
    if (this.#state === 'ready') this.#state = 'reconnecting';
    this.#reconnectAttempt = 0;
    this.#scheduleReconnect(0);
  }

  #scheduleReconnect(delay: number): void {
    if (this.#state !== 'reconnecting' && this.#state !== 'closing') return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(), delay);
    this.#reconnectTimer.unref();
  }

  async #reconnect(): Promise<void> {
    try {
      const producer = await withTimeout(this.#connectProducer(), Math.min(this.#o.connectTimeoutMs, 10_000), () => new Error('producer connect timed out'));
      if (this.#state === 'closed') {
        await producer.close().catch(() => {});
        return;
      }
      this.#producer = producer;
      if (this.#state === 'reconnecting') this.#state = 'ready';
      this.#log.info({ attempts: this.#reconnectAttempt + 1 }, 'Kafka producer reconnected');
      this.#pump();
    } catch (err) {
      this.#s.lastError = messageOf(err);
      this.#reconnectAttempt++;
      // jitter: no reconnect storms across replicas
      const delay = backoffDelay(this.#reconnectAttempt, { baseMs: 400, maxMs: 5000, jitter: 'equal' });
      this.#log.warn({ err: messageOf(err), attempt: this.#reconnectAttempt, retryInMs: Math.round(delay) }, 'Kafka still unreachable');
      this.#scheduleReconnect(delay);
    }
  }

  #checkIdle(): void {
    if (this.#idle && !this.#inFlight && this.#queue.records === 0) {
      this.#idle();
      this.#idle = null;
    }
  }

  /** Stop accepting, let queued and in-flight publishes finish (each is bounded by its deadline), then disconnect. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    if (this.#inFlight || this.#queue.records > 0) {
      const drained = new Promise<void>((r) => (this.#idle = r));
      this.#pump();
      await settleWithin(drained, 2 * this.#o.publishTimeoutMs + 1000, true);
    }
    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#lingerTimer);
    for (const p of this.#queue.drain()) this.#settle(p, new HvgError('HVG_ERR_SINK_CLOSED', 'the gateway shut down before Kafka acknowledged; retry'));
    const producer = this.#producer;
    this.#producer = null;
    await producer?.close();
    this.#log.info(this.stats(), 'Kafka sink closed');
  }
}

export async function createKafkaSink(options: KafkaSinkOptions): Promise<KafkaSink> {
  const sink = new KafkaSink(options);
  await sink.start();
  return sink;
}
