// The enrichment stage of one replica: a consumer in the group `{KAFKA_CLIENT_ID}-enrichment` on
// every events topic (KAFKA_TOPIC and its routes; partitions spread the work over the replicas),
// a producer of its own for the things topics (a second KafkaSink: the notification path's
// producer and its queue are not shared), and one gate per instance.
// kafkajs' own restart after a crash is off (as for the store and leadership: it can outlive
// disconnect()); a crashed consumer is replaced by a new one with jittered backoff.
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay } from '../retry.ts';
import { classifyKafkaError, createKafkaClient, disconnectWithin, type KafkaConnection, type KafkaLogLevel } from '../kafka/index.ts';
import { allTopics, routedTopic, type TopicRoutes } from '../kafka/routes.ts';
import type { Metrics } from '../metrics.ts';
import type { KafkaSinkOptions } from '../sink/kafka-sink-options.ts';
import { createKafkaSink } from '../sink/kafka-sink.ts';
import type { Sink } from '../sink/sink.ts';
import { DoneMemory, processBatch, type EventResult } from './batch.ts';
import type { EnrichContext, SourceDirectory } from './enrich-event.ts';
import { InstanceGate, type GateStatus } from './instance-gate.ts';
import type { EnrichEvent, ThingOutcome } from './thing-record.ts';

export interface EnrichmentStageOptions {
  readonly connection: KafkaConnection;
  readonly kafkaLogLevel: KafkaLogLevel;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly groupId: string;
  readonly eventsTopics: readonly string[];
  readonly thingsTopic: string;
  readonly thingsRoutes: TopicRoutes;
  /** producer settings of the things sink (partitions, replication, timeouts, batching) */
  readonly sink: Omit<KafkaSinkOptions, 'topic' | 'topicVariable' | 'extraTopics' | 'logger' | 'brokers' | 'clientId' | 'security' | 'kafkaLogLevel'>;
  readonly sources: SourceDirectory;
  enrich(subscriptionName: string, receivedAt: string | undefined): boolean;
  readonly concurrency: number;
  readonly ratePerSecond: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly holdMs: number;
  readonly partitionsConcurrency: number;
}

export interface InstanceEnrichment {
  instanceId: string;
  /** events of this instance fetched and not yet enriched */
  lagEvents: number;
  events: Record<EventResult, number>;
  thingsWritten: { thing: number; unavailable: number; error: number };
  errors: Record<string, number>;
  gate: GateStatus;
}

const MAX_ERROR_KEYS = 50;

export class EnrichmentStage {
  readonly #o: EnrichmentStageOptions;
  readonly #log: Logger;
  readonly #kafka: Kafka;
  readonly #gates = new Map<string, InstanceGate>();
  readonly #stats = new Map<string, InstanceEnrichment>();
  readonly #topicLag = new Map<string, Map<number, number>>();
  readonly #done = new DoneMemory();
  readonly #abort = new AbortController();
  #sink: Sink | null = null;
  #consumer: Consumer | null = null;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastError: string | null = null;
  #invalidLoggedAt = 0;
  #assignment: Record<string, number[]> = {};
  #invalidCount = 0;

  constructor(o: EnrichmentStageOptions) {
    this.#o = o;
    this.#log = o.logger.child({ module: 'enrichment' });
    this.#kafka = createKafkaClient({ connection: o.connection, clientIdSuffix: 'enrichment', logger: o.logger, logLevel: o.kafkaLogLevel, retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 } });
  }

  /** Open the things producer (ensures the things topics) and join the group. Rejects when either fails. */
  async start(): Promise<void> {
    const { connection: c } = this.#o;
    this.#sink = await createKafkaSink({
      ...this.#o.sink,
      brokers: c.brokers, clientId: `${c.clientId}-things`, security: c.security, kafkaLogLevel: this.#o.kafkaLogLevel, logger: this.#o.logger,
      topic: this.#o.thingsTopic,
      topicVariable: 'KAFKA_THINGS_TOPIC',
      extraTopics: allTopics(this.#o.thingsRoutes, this.#o.thingsTopic).slice(1).map((topic) => ({ topic, variable: 'KAFKA_THINGS_TOPIC_ROUTES' })),
    });
    await this.#join();
    this.#o.metrics.enrichmentRunning.set(1);
    this.#log.info({ groupId: this.#o.groupId, eventsTopics: this.#o.eventsTopics, thingsTopics: allTopics(this.#o.thingsRoutes, this.#o.thingsTopic) }, 'enrichment stage started');
  }

  async #join(): Promise<void> {
    const consumer = this.#kafka.consumer({
      groupId: this.#o.groupId,
      maxWaitTimeInMs: 500,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    // which partitions this replica enriches (GET /v1/enrichment): the group spreads them over the replicas
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#assignment = Object.fromEntries(Object.entries(payload.memberAssignment).map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]));
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.#assignment = {};
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#consumer !== consumer || this.#closed) return;
      this.#failed(payload.error, 'the enrichment consumer stopped; rejoining');
      this.#consumer = null;
      void disconnectWithin(consumer);
      this.#rejoin(1);
    });
    const ctx = this.#context();
    try {
      await consumer.connect();
      // a new group starts at the beginning: events written before the first enrich: true are
      // skipped quickly (their subscription did not ask), none after it is missed
      for (const topic of this.#o.eventsTopics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: true,
        autoCommitInterval: 1000,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.#o.partitionsConcurrency,
        eachBatch: (p) =>
          processBatch(p, {
            ctx,
            enrich: this.#o.enrich,
            holdMs: this.#o.holdMs,
            done: this.#done,
            signal: this.#abort.signal,
            onEvent: (e, result, outcomes) => this.#onEvent(e, result, outcomes),
            pending: (id, delta) => {
              const s = this.#stat(id);
              s.lagEvents += delta;
              this.#o.metrics.enrichmentLag.set({ instance: s.instanceId }, s.lagEvents);
            },
            onInvalid: (reason, offset) => this.#invalid(reason, offset),
            onPartitionLag: (topic, partition, lag) => this.#partitionLag(topic, partition, lag),
          }),
      });
    } catch (err) {
      this.#consumer = null;
      await disconnectWithin(consumer);
      throw err;
    }
  }

  /** At most one warning per 10 s for records that are not events (the rest are counted in it). */
  #invalid(reason: string, offset: string): void {
    this.#invalidCount++;
    const now = Date.now();
    if (now - this.#invalidLoggedAt < 10_000) return;
    this.#invalidLoggedAt = now;
    this.#log.warn({ reason, offset, since: this.#invalidCount }, 'events record(s) not enriched: not readable as an event');
    this.#invalidCount = 0;
  }

  #failed(err: unknown, msg: string): void {
    const f = classifyKafkaError(err, `the enrichment group ${this.#o.groupId}`);
    this.#lastError = f.message;
    this.#log[f.kind === 'fatal' ? 'error' : 'warn']({ err: f.message }, msg);
  }

  #rejoin(attempt: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#join().then(
        () => { this.#lastError = null; },
        (err: unknown) => {
          this.#failed(err, 'cannot rejoin the enrichment group yet');
          this.#rejoin(attempt + 1);
        },
      );
    }, 500 + backoffDelay(attempt, { baseMs: 500, maxMs: 10_000 }));
    this.#timer.unref();
  }

  #context(): EnrichContext {
    return {
      sources: this.#o.sources,
      gate: (id) => this.#gate(id),
      thingsTopic: (id) => routedTopic(this.#o.thingsRoutes, id, this.#o.thingsTopic),
      publish: (records) => (this.#sink ? this.#sink.publish(records) : Promise.reject(new Error('enrichment stage closed'))),
      onError: (id, status) => {
        const s = this.#stat(id);
        const key = /^(\d{1,4}|HVG_ERR_[A-Z_]{1,60}|publish)$/.test(status) ? status : 'other';
        if (key in s.errors || Object.keys(s.errors).length < MAX_ERROR_KEYS) s.errors[key] = (s.errors[key] ?? 0) + 1;
        this.#o.metrics.enrichmentErrors.inc({ instance: s.instanceId, status: key });
      },
    };
  }

  /** Only instances the gateway supports get their own label and gate; anything else is "unknown". */
  #label(instanceId: string): string {
    return this.#o.sources.platform(instanceId) !== undefined ? instanceId : 'unknown';
  }

  #gate(instanceId: string): InstanceGate {
    const id = this.#label(instanceId);
    let g = this.#gates.get(id);
    if (!g) {
      g = new InstanceGate({ concurrency: this.#o.concurrency, ratePerSecond: this.#o.ratePerSecond, retryBaseMs: this.#o.retryBaseMs, retryMaxMs: this.#o.retryMaxMs });
      this.#gates.set(id, g);
    }
    return g;
  }

  #stat(instanceId: string): InstanceEnrichment {
    const id = this.#label(instanceId);
    let s = this.#stats.get(id);
    if (!s) {
      s = { instanceId: id, lagEvents: 0, events: { enriched: 0, skipped: 0, invalid: 0, held: 0 }, thingsWritten: { thing: 0, unavailable: 0, error: 0 }, errors: {}, gate: this.#gate(id).status() };
      this.#stats.set(id, s);
    }
    return s;
  }

  #onEvent(e: EnrichEvent | null, result: EventResult, outcomes: readonly ThingOutcome[]): void {
    const s = this.#stat(e?.instanceId ?? 'unknown');
    s.events[result]++;
    this.#o.metrics.enrichmentEvents.inc({ instance: s.instanceId, result });
    for (const o of outcomes) {
      s.thingsWritten[o.kind]++;
      this.#o.metrics.thingsWritten.inc({ instance: s.instanceId, kind: o.kind });
    }
  }

  #partitionLag(topic: string, partition: number, lag: number): void {
    const m = this.#topicLag.get(topic) ?? new Map<number, number>();
    m.set(partition, lag);
    this.#topicLag.set(topic, m);
    this.#o.metrics.enrichmentTopicLag.set({ topic }, [...m.values()].reduce((a, b) => a + b, 0));
  }

  status(): { groupId: string; eventsTopics: string[]; thingsTopics: string[]; assignment: Record<string, number[]>; lastError: string | null; topicLag: Record<string, number>; instances: InstanceEnrichment[] } {
    const topicLag: Record<string, number> = {};
    for (const [t, m] of this.#topicLag) topicLag[t] = [...m.values()].reduce((a, b) => a + b, 0);
    return {
      groupId: this.#o.groupId,
      eventsTopics: [...this.#o.eventsTopics],
      thingsTopics: allTopics(this.#o.thingsRoutes, this.#o.thingsTopic),
      assignment: { ...this.#assignment },
      lastError: this.#lastError,
      topicLag,
      instances: [...this.#stats.values()].map((s) => ({ ...s, events: { ...s.events }, thingsWritten: { ...s.thingsWritten }, errors: { ...s.errors }, gate: this.#gate(s.instanceId).status() })),
    };
  }

  /** Leave the group (work in progress stops; resolved offsets are committed) and close the producer. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('enrichment stage closing'));
    const c = this.#consumer;
    this.#consumer = null;
    await disconnectWithin(c);
    await this.#sink?.close();
    this.#sink = null;
    this.#o.metrics.enrichmentRunning.set(0);
    for (const s of this.#stats.values()) this.#o.metrics.enrichmentLag.set({ instance: s.instanceId }, 0);
  }
}
