// The publishes waiting for the sink's next send (kafka-sink.ts): FIFO, with running record and
// byte counts, taken in batches that never split a publish, and the batching rules (KAFKA_LINGER_MS,
// KAFKA_SEND_INTERVAL_MS).
import type { Pending } from './kafka-sink-options.ts';

export interface BatchBounds {
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
}

export class PendingQueue {
  #items: Pending[] = [];
  #records = 0;
  #bytes = 0;

  get records(): number {
    return this.#records;
  }

  push(p: Pending): void {
    this.#items.push(p);
    this.#records += p.records.length;
    this.#bytes += p.bytes;
  }

  #shift(): Pending {
    const p = this.#items.shift()!;
    this.#records -= p.records.length;
    this.#bytes -= p.bytes;
    return p;
  }

  /** Queued publishes (skipping those that already settled, e.g. timed out) up to the bounds; a publish is never split. */
  takeBatch(b: BatchBounds): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    let bytes = 0;
    while (this.#items.length > 0) {
      const p = this.#items[0]!;
      if (p.settled) {
        this.#shift();
        continue;
      }
      if (batch.length > 0 && (n + p.records.length > b.maxBatchRecords || bytes + p.bytes > b.maxBatchBytes)) break;
      batch.push(this.#shift());
      n += p.records.length;
      bytes += p.bytes;
    }
    return batch;
  }

  /** A batch is already full: the next send must not wait for more records. */
  full(b: BatchBounds): boolean {
    return this.#records >= b.maxBatchRecords || this.#bytes >= b.maxBatchBytes;
  }

  /**
   * ms the next send should still wait for more records, by the two batching rules: the linger
   * (the oldest queued publish has waited `lingerMs`, Java's linger.ms) and the send interval
   * (`sendIntervalMs` since the previous send started at `lastSendAt`; after a quiet spell that is
   * long past, so a lone record goes at once). The longer wait wins; 0 when both passed, the queue
   * is empty or a batch is already full.
   */
  waitLeft(r: { lingerMs: number; sendIntervalMs: number; lastSendAt: number }, b: BatchBounds, now: number): number {
    if (this.#items.length === 0 || this.full(b)) return 0;
    const linger = r.lingerMs > 0 ? this.#items[0]!.at + r.lingerMs - now : 0;
    const interval = r.sendIntervalMs > 0 ? r.lastSendAt + r.sendIntervalMs - now : 0;
    return Math.max(0, linger, interval);
  }

  /** Empties the queue, returning what was in it. */
  drain(): Pending[] {
    const all = this.#items;
    this.#items = [];
    this.#records = 0;
    this.#bytes = 0;
    return all;
  }
}
