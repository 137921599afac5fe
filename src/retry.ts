// Waiting, the one way: jittered exponential backoff, a sleep that an AbortSignal cuts short, and
// the two bounded waits (a promise that must settle in time or fail, and a promise that is waited
// for at most so long). Every retry loop and timeout race of the gateway and the simulator uses
// these, so the formulas live in one place and read the same everywhere.

/**
 * full: random in [0, ceiling], spreads the retries of many callers that failed together, so a
 * recovering platform is not hit by synchronized waves; equal: in [ceiling/2, ceiling], never
 * retries at once (reconnect loops); none: exactly the ceiling (HealthVault's own schedule).
 */
export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** default 'full' */
  readonly jitter?: Jitter;
}

/** Delay before retry number `attempt` (1 = first retry): jittered below min(max, base·2^(attempt-1)). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  // the exponent is bounded so a long outage cannot turn the ceiling into Infinity·0 = NaN
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(52, Math.max(0, attempt - 1)));
  switch (o.jitter ?? 'full') {
    case 'full':
      return Math.round(random() * ceiling);
    case 'equal':
      return ceiling / 2 + random() * (ceiling / 2);
    case 'none':
      return ceiling;
  }
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. `unref`: the
 * wait alone does not keep the process alive (background loops).
 */
export function sleep(ms: number, signal?: AbortSignal, unref = false): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `p`, or a rejection with onTimeout() when it has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `p` to settle (resolved or rejected, both count) for at most `ms`: true when it did,
 * false when the time ran out. Never rejects: for shutdown steps that must not hang.
 */
export async function settleWithin(p: Promise<unknown>, ms: number, unref = false): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    if (unref) timer.unref();
  });
  const done = await Promise.race([p.then(() => true, () => true), late]);
  clearTimeout(timer);
  return done;
}
