// Per-instance admission for GetThings calls: at most `concurrency` in flight, at most `ratePerSecond`
// started per second, and a shared backoff after retriable failures. One gate per instance, so a
// slow or failing instance waits on its own gate and never on another's.
import { backoffDelay, sleep } from '../retry.ts';

export interface InstanceGateOptions {
  readonly concurrency: number;
  /** 0 = unlimited */
  readonly ratePerSecond: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly now?: () => number;
}

export interface GateStatus {
  readonly inFlight: number;
  readonly waiting: number;
  /** consecutive retriable failures (0 = healthy) */
  readonly failures: number;
  /** ISO time until which new calls wait, or null */
  readonly backoffUntil: string | null;
}

export class InstanceGate {
  readonly #o: InstanceGateOptions;
  readonly #now: () => number;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  /** earliest time the next call may start (rate limit) */
  #nextStart = 0;
  #failures = 0;
  #backoffUntil = 0;

  constructor(o: InstanceGateOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Run `fn` once a slot is free, the rate allows and no backoff is in force. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      await this.#pace(signal);
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** A retriable failure: every caller of this instance waits a growing, jittered delay. */
  failed(): void {
    this.#failures++;
    const until = this.#now() + backoffDelay(this.#failures, { baseMs: this.#o.retryBaseMs, maxMs: this.#o.retryMaxMs });
    this.#backoffUntil = Math.max(this.#backoffUntil, until);
  }

  succeeded(): void {
    this.#failures = 0;
  }

  status(): GateStatus {
    const now = this.#now();
    return { inFlight: this.#inFlight, waiting: this.#waiters.length, failures: this.#failures, backoffUntil: this.#backoffUntil > now ? new Date(this.#backoffUntil).toISOString() : null };
  }

  async #acquire(signal?: AbortSignal): Promise<void> {
    if (this.#inFlight < this.#o.concurrency) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== grant);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.#inFlight--;
  }

  /** Wait for the backoff and the rate limit (the slot is held meanwhile, so waiting is bounded by the slots). */
  async #pace(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#now();
      let at = Math.max(now, this.#backoffUntil);
      if (this.#o.ratePerSecond > 0) at = Math.max(at, this.#nextStart);
      if (at <= now) break;
      await sleep(at - now, signal);
    }
    if (this.#o.ratePerSecond > 0) this.#nextStart = Math.max(this.#now(), this.#nextStart) + 1000 / this.#o.ratePerSecond;
  }
}
