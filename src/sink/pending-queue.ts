// The publishes waiting for the sink's next send (kafka-sink.ts): FIFO, with running record and
// byte counts, taken in batches that never split a publish, and the linger rule (KAFKA_LINGER_MS).
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

  /**
   * ms the next send should still wait for more records: until the oldest queued publish has
   * waited `lingerMs` (Java's linger.ms), or 0 when that passed, the queue is empty or a batch is
   * already full.
   */
  lingerLeft(lingerMs: number, b: BatchBounds, now: number): number {
    if (lingerMs <= 0 || this.#items.length === 0) return 0;
    if (this.#records >= b.maxBatchRecords || this.#bytes >= b.maxBatchBytes) return 0;
    return this.#items[0]!.at + lingerMs - now;
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
