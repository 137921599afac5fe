// One fetched batch of one events partition. Events of one key (one HealthVault record) are
// enriched in order, different keys at once (each instance's gate bounds its calls). An offset is
// resolved only when it and every offset before it are done — enriched and acknowledged by Kafka,
// or not to be enriched — so a crash re-fetches, never skips (at-least-once).
// An event whose instance keeps failing past ENRICH_HOLD_MS is "held": the batch ends at the
// first held offset, and kafkajs fetches from there again (the gate's backoff paces the retries).
// Events after it that were already done are remembered (DoneMemory) and not fetched twice.
import type { EachBatchPayload } from 'kafkajs';
import { enrichEvent, HeldEvent, type EnrichContext } from './enrich-event.ts';
import { readEvent } from './event-input.ts';
import type { EnrichEvent, ThingOutcome } from './thing-record.ts';

export type EventResult = 'enriched' | 'skipped' | 'invalid' | 'held';

export interface BatchHooks {
  readonly ctx: EnrichContext;
  /** does the subscription of this name say enrich: true (now), for an event received then? */
  enrich(subscriptionName: string, receivedAt: string | undefined): boolean;
  readonly holdMs: number;
  readonly done: DoneMemory;
  onEvent(e: EnrichEvent | null, result: EventResult, outcomes: readonly ThingOutcome[]): void;
  /** the number of events of an instance waiting in fetched batches changed by `delta` */
  pending(instanceId: string, delta: number): void;
  onInvalid(reason: string, offset: string): void;
  onPartitionLag(topic: string, partition: number, lag: number): void;
  readonly signal: AbortSignal;
}

/** Offsets past the committed one that are already done, per partition (bounded by the batch sizes). */
export class DoneMemory {
  readonly #m = new Map<string, Set<string>>();

  has(topic: string, partition: number, offset: string): boolean {
    return this.#m.get(`${topic}/${partition}`)?.has(offset) ?? false;
  }

  add(topic: string, partition: number, offset: string): void {
    const k = `${topic}/${partition}`;
    const s = this.#m.get(k) ?? new Set<string>();
    s.add(offset);
    this.#m.set(k, s);
  }

  /** forget offsets at or below `resolved` (they will never be fetched again) */
  forgetThrough(topic: string, partition: number, resolved: string): void {
    const s = this.#m.get(`${topic}/${partition}`);
    if (!s) return;
    const r = BigInt(resolved);
    for (const o of s) if (BigInt(o) <= r) s.delete(o);
    if (s.size === 0) this.#m.delete(`${topic}/${partition}`);
  }

  get size(): number {
    let n = 0;
    for (const s of this.#m.values()) n += s.size;
    return n;
  }
}

export async function processBatch(p: EachBatchPayload, h: BatchHooks): Promise<void> {
  const { batch } = p;
  const { topic, partition, messages } = batch;
  const done: boolean[] = messages.map(() => false);
  let resolved = 0;
  const advance = () => {
    let i = resolved;
    while (i < messages.length && done[i]) i++;
    if (i > resolved) {
      resolved = i;
      p.resolveOffset(messages[i - 1]!.offset);
    }
  };
  const chains = new Map<string, { index: number; event: EnrichEvent }[]>();
  for (const [index, m] of messages.entries()) {
    if (h.done.has(topic, partition, m.offset)) {
      done[index] = true;
      continue;
    }
    const r = readEvent(m);
    if ('skip' in r) {
      h.onInvalid(r.skip, m.offset);
      h.onEvent(null, 'invalid', []);
      done[index] = true;
      continue;
    }
    if (!h.enrich(r.event.subscriptionName, r.event.receivedAt)) {
      h.onEvent(r.event, 'skipped', []);
      done[index] = true;
      continue;
    }
    const key = m.key?.toString('utf8') ?? `${r.event.instanceId}:${r.event.recordId}`;
    const chain = chains.get(key) ?? [];
    chain.push({ index, event: r.event });
    chains.set(key, chain);
    h.pending(r.event.instanceId, 1);
  }
  advance();
  const deadline = Date.now() + h.holdMs;
  let heldAt = messages.length;
  await Promise.all(
    [...chains.values()].map(async (chain) => {
      let held = false;
      for (const { index, event } of chain) {
        if (held || index > heldAt || h.signal.aborted) {
          h.pending(event.instanceId, -1);
          continue;
        }
        try {
          const outcomes = await enrichEvent(h.ctx, event, deadline, h.signal);
          done[index] = true;
          h.onEvent(event, 'enriched', outcomes);
          advance();
          // done but behind an offset still in work: remembered in case the batch ends holding that one
          if (index >= resolved) h.done.add(topic, partition, messages[index]!.offset);
        } catch (err) {
          // held (instance still failing), Kafka did not acknowledge, or stopping: not done, fetched again
          held = true;
          heldAt = Math.min(heldAt, index);
          h.onEvent(event, 'held', []);
          if (!(err instanceof HeldEvent) && !h.signal.aborted) h.ctx.onError(event.instanceId, 'publish');
        } finally {
          h.pending(event.instanceId, -1);
        }
        await p.heartbeat().catch(() => {});
      }
    }),
  );
  advance();
  if (resolved > 0) h.done.forgetThrough(topic, partition, messages[resolved - 1]!.offset);
  if (messages.length > 0) {
    // the next offset this replica will fetch: after the last resolved one, or this batch's first
    const next = resolved > 0 ? BigInt(messages[resolved - 1]!.offset) + 1n : BigInt(messages[0]!.offset);
    h.onPartitionLag(topic, partition, Math.max(0, Number(BigInt(batch.highWatermark) - next)));
  }
  await p.commitOffsetsIfNecessary();
}
