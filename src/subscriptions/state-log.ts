// The state log as the control loop sees it: an ordered, replicated log of state-keys.ts entries
// that every replica folds into its StateView. The reconciler and the service depend on this
// interface only; store.ts implements it over a single-partition compacted Kafka topic, and the
// tests over memory (test/helpers/memory-state-log.ts).
//
// Concurrent spec edits are settled in the log (writeSpec below): each spec write carries
// revision = current + 1 and a random writeId; the view applies a spec record only if its revision
// is higher than the one it has, so all replicas agree the first one in the log won. The loser
// notices (its writeId is not the applied one), answers 412, and re-writes the winner's content
// with the next revision so that log compaction (which keeps the *last* record of a key) can
// never resurrect the loser.
import { randomBytes } from 'node:crypto';
import type { SubscriptionSpec } from './model.ts';
import type { StateEntry } from './state-keys.ts';
import type { StateView } from './view.ts';

export interface StateLog {
  /** The folded log: everything this replica applied so far (read-only for callers). */
  readonly view: StateView;
  /**
   * Append entries, in order and contiguous, as one write. Resolves once the log acknowledged all
   * of them AND this replica applied them to `view` (read-your-writes); rejects with
   * HVG_ERR_STORE_UNAVAILABLE otherwise (then none, some or all may have been written).
   */
  append(entries: readonly StateEntry[]): Promise<void>;
}

/** A spec write or a deletion marker, before its writeId. */
export type SpecWrite = SubscriptionSpec | { readonly name: string; readonly deleted: true; readonly revision: number; readonly keyVersion?: number };

const newWriteId = (): string => randomBytes(8).toString('hex');

/**
 * Write a spec (or a deletion marker) with revision = expected + 1. Resolves true when it won,
 * false when another replica's write for the same name got there first (the caller answers 412).
 */
export async function writeSpec(log: StateLog, record: SpecWrite): Promise<boolean> {
  const writeId = newWriteId();
  await log.append([{ kind: 'spec', record: { ...record, writeId } }]);
  const won = log.view.lastSpecWrite(record.name);
  if (won?.writeId === writeId) return true;
  if (won) {
    // re-assert the winner after our record so compaction keeps the winner's content
    await log.append([{ kind: 'spec', record: { ...won, revision: won.revision + 1, writeId: newWriteId() } }]);
  }
  return false;
}

/** Any replica may ask the leader for a pass: the leader's reconciler watches this key. */
export function requestReconcile(log: StateLog, at: Date = new Date()): Promise<void> {
  return log.append([{ kind: 'reconcile-request', at: at.toISOString() }]);
}
