// Everything a drill starts is registered here and stopped on the way out — normal end, error,
// Ctrl-C or a time bound — in reverse order, each step bounded. A last synchronous hook on
// process exit SIGKILLs whatever pids are still registered (gateway children, brokers), so even
// a crash of the drill process leaves nothing behind.

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** pids to SIGKILL if the process exits before the orderly cleanup ran */
const lastResort = new Map<string, () => number | undefined>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const pidOf of lastResort.values()) {
      const pid = pidOf();
      if (pid === undefined || pid <= 0) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

let nextId = 0;

export class Cleanup {
  readonly #steps: { what: string; fn: () => Promise<void> | void; pidKey: string | undefined }[] = [];
  readonly #log: (m: string) => void;
  #chain: Promise<void> = Promise.resolve();

  constructor(log: (m: string) => void = () => {}) {
    this.#log = log;
    hookExit();
  }

  /**
   * Register a stop step; `pid` (optional) returns the pid to SIGKILL if the process dies before
   * the step ran. Returns a function that runs the step now (once) and unregisters it.
   */
  add(what: string, fn: () => Promise<void> | void, pid?: () => number | undefined): () => Promise<void> {
    const pidKey = pid ? `${what}#${nextId++}` : undefined;
    if (pidKey && pid) lastResort.set(pidKey, pid);
    const step = { what, fn, pidKey };
    this.#steps.push(step);
    return async () => {
      const i = this.#steps.indexOf(step);
      if (i < 0) return;
      this.#steps.splice(i, 1);
      await this.#runStep(step, 60_000);
    };
  }

  async #runStep(step: { what: string; fn: () => Promise<void> | void; pidKey: string | undefined }, boundMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(step.fn),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not done within ${boundMs} ms`)), boundMs);
        }),
      ]);
    } catch (err) {
      this.#log(`cleanup: ${step.what}: ${errText(err)}`);
      // the orderly stop failed: SIGKILL what we know
      const pid = step.pidKey ? lastResort.get(step.pidKey)?.() : undefined;
      if (pid !== undefined && pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    } finally {
      clearTimeout(timer);
      if (step.pidKey) lastResort.delete(step.pidKey);
    }
  }

  /**
   * Runs every registered step, last registered first; steps added later run on the next call.
   * Calls queue behind each other, so a caller returns only once everything is stopped (a signal
   * handler and the normal path may both call it).
   */
  run(boundMsPerStep = 60_000): Promise<void> {
    const p = this.#chain.then(async () => {
      while (this.#steps.length > 0) {
        const step = this.#steps.pop()!;
        await this.#runStep(step, boundMsPerStep);
      }
    });
    this.#chain = p.catch(() => {});
    return p;
  }
}

/** Rejects with `what` after `ms`; the timer never keeps the process alive. */
export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms / 1000)} s`)), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every `everyMs` until `ok`, or throw after `ms` with the last value. */
export async function until<T>(what: string, fn: () => T | Promise<T>, ok: (v: T) => boolean, ms: number, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      lastErr = undefined;
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      const detail = lastErr !== undefined ? errText(lastErr) : JSON.stringify(last)?.slice(0, 600);
      throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}: ${detail}`);
    }
    await sleep(everyMs);
  }
}
