// Bounded, jittered backoff shared by the platform client (request retries) and the registry
// (refresh after a failure). Full jitter spreads retries of many callers that failed together,
// so a recovering platform is not hit by synchronized waves.

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Delay before retry number `attempt` (1 = first retry): random in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
