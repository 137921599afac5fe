// The state log's record keys, built and read here only. One compacted topic holds four kinds:
//   spec/<name>                          → a SpecRecord (desired state, or a deletion marker)
//   observed/<instance>/<name>           → an InstanceObservation (the leader's last look), null = gone
//   instance/<instance>                  → an InstanceReport (the leader's last pass over it)
//   request/reconcile                    → { at } (any replica asks the leader for a pass)
// Instance ids are percent-encoded (they come from the platform's topology); subscription names
// are slugs (NAME_PATTERN) and need no encoding.
import type { InstanceObservation, InstanceReport, SpecRecord } from './model.ts';

export type StateKey =
  | { readonly kind: 'spec'; readonly name: string }
  | { readonly kind: 'observation'; readonly instanceId: string; readonly name: string }
  | { readonly kind: 'report'; readonly instanceId: string }
  | { readonly kind: 'reconcile-request' }
  /** a key this version does not know (a newer replica's): ignored, for forward compatibility */
  | { readonly kind: 'unknown' };

/** What one append writes: a key kind with its value (null = tombstone where the kind allows it). */
export type StateEntry =
  | { readonly kind: 'spec'; readonly record: SpecRecord }
  | { readonly kind: 'observation'; readonly instanceId: string; readonly name: string; readonly observation: InstanceObservation | null }
  | { readonly kind: 'report'; readonly report: InstanceReport }
  | { readonly kind: 'reconcile-request'; readonly at: string };

const SPEC = 'spec/';
const OBSERVED = 'observed/';
const INSTANCE = 'instance/';
const RECONCILE = 'request/reconcile';

export const specKey = (name: string): string => `${SPEC}${name}`;
export const observationKey = (instanceId: string, name: string): string => `${OBSERVED}${encodeURIComponent(instanceId)}/${name}`;
export const instanceReportKey = (instanceId: string): string => `${INSTANCE}${encodeURIComponent(instanceId)}`;

/** The key of the record an entry writes. */
export function entryKey(e: StateEntry): string {
  switch (e.kind) {
    case 'spec':
      return specKey(e.record.name);
    case 'observation':
      return observationKey(e.instanceId, e.name);
    case 'report':
      return instanceReportKey(e.report.instanceId);
    case 'reconcile-request':
      return RECONCILE;
  }
}

/** The record value an entry writes, as the log stores it (null = tombstone). */
export function entryValue(e: StateEntry): unknown {
  switch (e.kind) {
    case 'spec':
      return e.record;
    case 'observation':
      return e.observation;
    case 'report':
      return e.report;
    case 'reconcile-request':
      return { at: e.at };
  }
}

/** Read a record key back (a replica folding the log). */
export function parseStateKey(key: string): StateKey {
  if (key.startsWith(SPEC)) return { kind: 'spec', name: key.slice(SPEC.length) };
  if (key === RECONCILE) return { kind: 'reconcile-request' };
  if (key.startsWith(INSTANCE)) return { kind: 'report', instanceId: safeDecode(key.slice(INSTANCE.length)) };
  if (key.startsWith(OBSERVED)) {
    const rest = key.slice(OBSERVED.length);
    const slash = rest.indexOf('/');
    if (slash > 0) return { kind: 'observation', instanceId: safeDecode(rest.slice(0, slash)), name: rest.slice(slash + 1) };
  }
  return { kind: 'unknown' };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not written by us (we always encode); kept verbatim rather than failing the fold
  }
}
