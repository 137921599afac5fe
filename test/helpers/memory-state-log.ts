// The state log in memory, for unit tests of the control loop (reconciler, service, view) without
// Kafka. It keeps KafkaStateLog's contract (src/subscriptions/state-log.ts): one ordered log with
// offsets, values stored as JSON text and parsed back on the way in (so a value that does not
// survive JSON shows up here too), delivery to every replica's view asynchronously and in log
// order (like a consumer), an append resolving only once its own replica applied it. Kept in test/:
// the product has no use for a state that dies with the process and is not shared by replicas.
import { HvgError } from '../../src/errors.ts';
import { entryKey, entryValue, type StateEntry } from '../../src/subscriptions/state-keys.ts';
import type { StateLog } from '../../src/subscriptions/state-log.ts';
import { StateView } from '../../src/subscriptions/view.ts';

export interface LoggedRecord {
  readonly key: string;
  /** JSON text; null = tombstone */
  readonly value: string | null;
}

/** The one log every replica reads (the topic). */
export class SharedLog {
  readonly records: LoggedRecord[] = [];
  /** size of every append, in order (one number per append call that reached the log) */
  readonly appends: number[] = [];
  /** while true, appends reject as the Kafka store does when the broker is away */
  unavailable = false;
  readonly #replicas = new Set<MemoryStateLog>();

  join(r: MemoryStateLog): void {
    this.#replicas.add(r);
  }

  deliverSoon(): void {
    setImmediate(() => {
      for (const r of this.#replicas) r.catchUp();
    });
  }

  /** Records whose key starts with `prefix` (build it with state-keys.ts), values parsed. */
  values(prefix: string): { key: string; value: unknown }[] {
    return this.records.filter((r) => r.key.startsWith(prefix)).map((r) => ({ key: r.key, value: r.value === null ? null : JSON.parse(r.value) }));
  }
}

export class MemoryStateLog implements StateLog {
  readonly view: StateView;
  readonly log: SharedLog;
  #next = 0;

  /** A replica of `log` (a new one by default), its view read to the end of the log at once, as KafkaStateLog.start() does. */
  constructor(options: { log?: SharedLog; keyRetryHorizonMs?: number } = {}) {
    this.log = options.log ?? new SharedLog();
    this.view = new StateView(options.keyRetryHorizonMs ?? 60_000);
    this.log.join(this);
    this.catchUp();
  }

  /** Another replica on the same log. */
  replica(keyRetryHorizonMs?: number): MemoryStateLog {
    return new MemoryStateLog({ log: this.log, ...(keyRetryHorizonMs === undefined ? {} : { keyRetryHorizonMs }) });
  }

  catchUp(): void {
    while (this.#next < this.log.records.length) {
      const r = this.log.records[this.#next]!;
      this.view.apply(r.key, r.value === null ? null : JSON.parse(r.value), this.#next);
      this.#next++;
    }
  }

  async append(entries: readonly StateEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.log.unavailable) throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', 'Kafka did not acknowledge the subscription change: memory log unavailable; retry');
    for (const e of entries) {
      const v = entryValue(e);
      this.log.records.push({ key: entryKey(e), value: v === null ? null : JSON.stringify(v) });
    }
    this.log.appends.push(entries.length);
    this.log.deliverSoon();
    await this.view.waitForOffset(this.log.records.length - 1, 5000);
  }
}
