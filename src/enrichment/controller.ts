// Runs the enrichment stage only while some subscription says `enrich: true`: deployments (and
// tests) without it open no consumer and no producer. Every replica watches the subscription view
// and starts or stops its own stage; the consumer group spreads the partitions over the replicas
// that run it. Transitions are serialised; a start that fails is retried with backoff (a missing
// ACL, a broker away) while enrich is still wanted.
import type { Logger } from 'pino';
import { backoffDelay } from '../retry.ts';
import type { EnrichmentStage } from './stage.ts';

export type EnrichmentState = 'off' | 'starting' | 'running' | 'stopping';

export interface EnrichmentControllerOptions {
  /** is enrich: true set on some subscription now? */
  wanted(): boolean;
  /** may load the stage lazily: its Kafka consumer is kafkajs, which KAFKA_CLIENT=platformatic loads only when enrich is on */
  createStage(): EnrichmentStage | Promise<EnrichmentStage>;
  logger: Logger;
}

export class EnrichmentController {
  readonly #o: EnrichmentControllerOptions;
  readonly #log: Logger;
  #state: EnrichmentState = 'off';
  #stage: EnrichmentStage | null = null;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;
  #lastStartError: string | null = null;

  constructor(o: EnrichmentControllerOptions) {
    this.#o = o;
    this.#log = o.logger.child({ module: 'enrichment' });
  }

  get state(): EnrichmentState {
    return this.#state;
  }

  get stage(): EnrichmentStage | null {
    return this.#stage;
  }

  get lastStartError(): string | null {
    return this.#lastStartError;
  }

  /** Compare wanted and actual; start or stop. Cheap when nothing changes (called on every view change). */
  sync(): Promise<void> {
    const want = !this.#closed && this.#o.wanted();
    if (want === (this.#state === 'running' || this.#state === 'starting')) return this.#chain;
    this.#chain = this.#chain.then(() => (want ? this.#start() : this.#stop()));
    return this.#chain;
  }

  async #start(): Promise<void> {
    if (this.#closed || this.#stage !== null || !this.#o.wanted()) return;
    this.#state = 'starting';
    let stage: EnrichmentStage | null = null;
    try {
      stage = await this.#o.createStage();
      await stage.start();
      this.#stage = stage;
      this.#state = 'running';
      this.#attempt = 0;
      this.#lastStartError = null;
    } catch (err) {
      await stage?.close().catch(() => {});
      this.#state = 'off';
      this.#attempt++;
      this.#lastStartError = (err as Error).message;
      this.#log[this.#attempt >= 3 ? 'error' : 'warn']({ err: this.#lastStartError, attempt: this.#attempt }, 'cannot start the enrichment stage yet; retrying');
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.sync(), 1000 + backoffDelay(this.#attempt, { baseMs: 1000, maxMs: 30_000 }));
      this.#timer.unref();
    }
  }

  async #stop(): Promise<void> {
    const stage = this.#stage;
    if (stage === null) return;
    this.#state = 'stopping';
    this.#stage = null;
    await stage.close();
    this.#state = 'off';
    this.#log.info('enrichment stage stopped (no subscription has enrich: true)');
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#chain = this.#chain.then(() => this.#stop());
    await this.#chain;
  }
}
