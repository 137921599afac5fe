// Fixed-window counters per key, for the notification route's two budgets (verified traffic and
// failed authentication). Keys are instance ids the registry serves — never raw request data — and
// the map is bounded anyway: past `maxKeys` the whole table starts afresh (a window's worth of
// counting is lost, which only errs towards accepting).
export class WindowBudget {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #counts = new Map<string, { start: number; used: number }>();

  constructor(limit: number, windowMs: number, opts: { maxKeys?: number; now?: () => number } = {}) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxKeys = opts.maxKeys ?? 1024;
    this.#now = opts.now ?? Date.now;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Seconds until the current window ends (at least 1): the Retry-After of a refusal. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#windowMs / 1000));
  }

  /** Counts one use; false when the key's budget for the current window is already spent. `now`: a clock read the caller already made. */
  take(key: string, now: number = this.#now()): boolean {
    let c = this.#counts.get(key);
    if (c === undefined) {
      if (this.#counts.size >= this.#maxKeys) this.#counts.clear();
      c = { start: now, used: 0 };
      this.#counts.set(key, c);
    } else if (now - c.start >= this.#windowMs) {
      c.start = now;
      c.used = 0;
    }
    if (c.used >= this.#limit) return false;
    c.used++;
    return true;
  }

  /** Keys currently tracked (tests prove the bound with it). */
  get size(): number {
    return this.#counts.size;
  }
}

/**
 * At most `perWindow` log lines per window; the rest are counted and reported by the next line
 * that gets through, so a flood of refusals cannot flood the log.
 */
export class LogBudget {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #start = 0;
  #used = 0;
  #suppressed = 0;

  constructor(perWindow: number, windowMs: number, now: () => number = Date.now) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** undefined = drop this line; otherwise log it, with `suppressed` lines dropped since the last one. */
  take(): { suppressed: number } | undefined {
    const now = this.#now();
    if (now - this.#start >= this.#windowMs) {
      this.#start = now;
      this.#used = 0;
    }
    if (this.#used >= this.#perWindow) {
      this.#suppressed++;
      return undefined;
    }
    this.#used++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return { suppressed };
  }
}
