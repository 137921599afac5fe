// Observation bookkeeping, pure: from what one reconcile pass over one instance found and did,
// the state-log entries to append — an observation per desired subscription where it changed (or
// grew stale), a tombstone per observation no longer wanted, the instance report where it changed
// (or its lastPassAt is REPORT_REFRESH_MS old). Idle passes and restarts thus cause no store churn.
// The reconciler appends the result in one write (state-log.ts).
import { nextConfirmations } from './key-acceptance.ts';
import type { InstanceObservation, InstanceReport, SubscriptionSpec } from './model.ts';
import type { InstancePlan, PlanAction } from './plan.ts';
import type { StateEntry } from './state-keys.ts';

/** An unchanged in-sync observation is still rewritten this often (its lastSync says the instance was looked at). */
export const STALE_OBSERVATION_MS = 5 * 60_000;
/**
 * The instance report (lastPassAt for replicas that do not lead) is rewritten when anything in
 * it changed, and otherwise at most this often: bounded store traffic however short the
 * interval, at the price of a follower's lastPassAt lagging by up to this much.
 */
export const REPORT_REFRESH_MS = 60_000;

/** What a pass over one instance found and did. */
export interface PassOutcome {
  /** the pass's plan; null when the listing failed (then `passError` applies to every desired spec) */
  readonly plan: InstancePlan | null;
  /** name → HealthVault subscription id the instance holds now (in sync, created or updated) */
  readonly ids: ReadonlyMap<string, string>;
  /** name → why its create/update failed (or is held back by a configuration refusal) */
  readonly errors: ReadonlyMap<string, string>;
  /** name → HealthVault status of a configuration refusal (133/11/134) at the current spec revision */
  readonly configErrors: ReadonlyMap<string, number>;
  /** the pass's error as the instance report shows it (null = the pass went through) */
  readonly passError: string | null;
}

export interface PassRecord {
  readonly instanceId: string;
  /** the specs that apply to this instance */
  readonly desired: readonly SubscriptionSpec[];
  /** this instance's stored observations (every name) */
  readonly previous: readonly InstanceObservation[];
  readonly previousReport: InstanceReport | undefined;
  readonly outcome: PassOutcome;
  /** when the pass ended (ms since the epoch) */
  readonly now: number;
  /** KEY_RETRY_HORIZON_MS */
  readonly keyRetryHorizonMs: number;
}

/** The observation of `spec` after a pass (`prev`: the stored one). */
export function nextObservation(r: PassRecord, spec: SubscriptionSpec, prev: InstanceObservation | undefined): InstanceObservation {
  const { outcome } = r;
  const err = outcome.plan === null ? outcome.passError : (outcome.errors.get(spec.name) ?? null);
  const id = outcome.ids.get(spec.name) ?? prev?.hvSubscriptionId ?? null;
  const confirmed = err === null && id !== null; // the instance now holds spec.keyVersion
  const known = outcome.plan?.known[spec.name] ?? prev?.knownIds ?? [];
  const status = outcome.configErrors.get(spec.name);
  return {
    instanceId: r.instanceId,
    name: spec.name,
    hvSubscriptionId: id,
    knownIds: [...new Set([...known, ...(id ? [id] : [])])].sort(),
    state: err !== null ? 'error' : id !== null ? 'in-sync' : 'missing',
    keyVersion: confirmed ? spec.keyVersion : (prev?.keyVersion ?? null),
    ...nextConfirmations(spec, prev, confirmed, r.keyRetryHorizonMs, r.now),
    specRevision: err === null ? spec.revision : (prev?.specRevision ?? 0),
    lastError: err,
    lastSync: err === null ? new Date(r.now).toISOString() : (prev?.lastSync ?? null),
    configError: status !== undefined ? { hvStatus: status, specRevision: spec.revision } : null,
  };
}

/** Whether `next` must be written over `prev`: new, changed beyond lastSync, or a stale success. */
export function observationDue(prev: InstanceObservation | undefined, next: InstanceObservation, now: number): boolean {
  if (prev === undefined) return true;
  if (JSON.stringify({ ...prev, lastSync: null }) !== JSON.stringify({ ...next, lastSync: null })) return true;
  return next.lastError === null && Date.parse(prev.lastSync ?? '0') < now - STALE_OBSERVATION_MS;
}

/** The instance report after a pass; unreadable foreign entries keep why. A failed listing keeps the last foreign list. */
export function nextReport(r: PassRecord): InstanceReport {
  const { plan, passError } = r.outcome;
  return {
    instanceId: r.instanceId,
    lastPassAt: new Date(r.now).toISOString(),
    lastPassOk: passError === null,
    lastError: passError,
    foreign: plan ? plan.foreign.map((f) => ({ id: f.id, url: f.url, typeIds: f.typeIds, ...(f.unreadable === undefined ? {} : { unreadable: f.unreadable }) })) : (r.previousReport?.foreign ?? []),
  };
}

/** Whether the report must be written: new, changed beyond lastPassAt, or its lastPassAt REPORT_REFRESH_MS old. */
export function reportDue(prev: InstanceReport | undefined, next: InstanceReport): boolean {
  if (prev === undefined) return true;
  if (JSON.stringify({ ...prev, lastPassAt: 0 }) !== JSON.stringify({ ...next, lastPassAt: 0 })) return true;
  return Date.parse(prev.lastPassAt ?? '0') <= Date.parse(next.lastPassAt ?? '0') - REPORT_REFRESH_MS;
}

/** Everything a pass writes, in order: changed observations, tombstones of unwanted ones (only after a listing), the report. */
export function passEntries(r: PassRecord): StateEntry[] {
  const byName = new Map(r.previous.map((o) => [o.name, o]));
  const entries: StateEntry[] = [];
  for (const spec of r.desired) {
    const prev = byName.get(spec.name);
    const next = nextObservation(r, spec, prev);
    if (observationDue(prev, next, r.now)) entries.push({ kind: 'observation', instanceId: r.instanceId, name: spec.name, observation: next });
  }
  if (r.outcome.plan !== null) {
    const wanted = new Set(r.desired.map((s) => s.name));
    for (const o of r.previous) if (!wanted.has(o.name)) entries.push({ kind: 'observation', instanceId: r.instanceId, name: o.name, observation: null });
  }
  const report = nextReport(r);
  if (reportDue(r.previousReport, report)) entries.push({ kind: 'report', report });
  return entries;
}

/**
 * Creates/updates refused for a configuration reason (133/11/134) at the current spec revision
 * wait for a spec change or an operator (`forced`): the stored observations of those names.
 */
export function heldRefusals(actions: readonly PlanAction[], observed: (name: string) => InstanceObservation | undefined, revisionOf: (name: string) => number | undefined, forced: boolean): Map<string, InstanceObservation> {
  const held = new Map<string, InstanceObservation>();
  if (forced) return held;
  for (const a of actions) {
    if (a.kind === 'delete') continue;
    const o = observed(a.name);
    if (o?.configError != null && o.configError.specRevision === revisionOf(a.name)) held.set(a.name, o);
  }
  return held;
}
