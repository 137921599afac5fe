// One instance's reconcile loop: coalesces requests into passes, backs off after a failure that a
// retry may fix (not after a configuration refusal: that waits for a change or an operator).
import { backoffDelay } from '../retry.ts';
import type { PassResult } from './reconciler.ts';

/** What a worker needs from the reconciler. */
export interface WorkerHost {
  readonly intervalMs: number;
  isLeader(): boolean;
  pass(instanceId: string, stopSignal: AbortSignal): Promise<PassResult>;
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function bounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

export class InstanceWorker {
  readonly id: string;
  readonly #r: WorkerHost;
  #running: Promise<PassResult> | null = null;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #abort = new AbortController();
  failures = 0;
  lastPassAt: string | null = null;
  lastError: string | null = null;
  nextRetryAt: number | null = null;

  constructor(id: string, r: WorkerHost) {
    this.id = id;
    this.#r = r;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /** Ask for a pass; coalesces with one already running. Resolves with the pass that covers the request. */
  request(): Promise<PassResult> {
    if (this.#running) {
      this.#dirty = true; // the running loop makes one more pass, which covers this request
      return this.#running;
    }
    clearTimeout(this.#timer);
    this.nextRetryAt = null;
    this.#running = this.#loop().finally(() => (this.#running = null));
    return this.#running;
  }

  async #loop(): Promise<PassResult> {
    let result: PassResult;
    do {
      this.#dirty = false;
      result = await this.#r.pass(this.id, this.#abort.signal);
      this.lastPassAt = result.finishedAt;
      if (result.ok) {
        this.failures = 0;
        this.lastError = result.configError ? result.error : null;
      } else {
        this.failures++;
        this.lastError = result.error;
        // jittered exponential backoff for this instance only
        const delay = backoffDelay(this.failures, { baseMs: 2000, maxMs: Math.min(this.#r.intervalMs, 256_000), jitter: 'equal' });
        this.nextRetryAt = Date.now() + delay;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.request().catch(() => {}), delay);
        this.#timer.unref();
        break;
      }
    } while (this.#dirty && this.#r.isLeader());
    return result;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('reconciler stopping'));
    await this.#running?.catch(() => {});
    this.#abort = new AbortController();
  }
}

