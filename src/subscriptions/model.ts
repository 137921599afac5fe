// The subscription model: what an operator asks for (SubscriptionSpec, desired state) and what
// the reconciler last saw in each instance (InstanceObservation). Both are stored as JSON in a
// single-partition compacted Kafka topic (state-log.ts, store.ts) and folded into a StateView by
// every replica (view.ts). Nothing secret is in either: keys are derived (keys.ts).

export const EVENT_TYPES = ['record-item-changed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Subscription names are slugs: they appear in callback URLs and Kafka headers. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface SubscriptionSpec {
  readonly name: string;
  readonly eventType: EventType;
  /** thing type ids (lower-case GUIDs, sorted, unique); a change of any of them notifies */
  readonly typeIds: readonly string[];
  /** instance ids this subscription is limited to; null = every supported instance */
  readonly instances: readonly string[] | null;
  /** current notification key version (integer, HealthVault id "v<n>"); never reused for a name */
  readonly keyVersion: number;
  /** the version before the last rotation (informational: acceptance follows the instances, key-acceptance.ts) */
  readonly previousKeyVersion: number | null;
  readonly keyRotatedAt: string | null;
  /**
   * Lowest key version that may still be accepted: the first version of this (re-)creation, or the
   * current one after rotate-key?revokePrevious=true. Absent in records written before it existed
   * (then previousKeyVersion ?? keyVersion).
   */
  readonly keyVersionFloor?: number;
  /**
   * Enrichment stage (src/enrichment/): fetch every changed thing of this subscription's events
   * into the things topic. Gateway-only: never registered in an instance, so never drift. Absent in
   * records written before it existed (= false).
   */
  readonly enrich?: boolean;
  /**
   * When enrich last went from false to true: events received before it are not enriched (a new
   * consumer group reads the events topic from its start; without this it would backfill the
   * whole retention). Null/absent while enrich is false.
   */
  readonly enrichSince?: string | null;
  /** bumped by every write; the ETag is derived from it */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const SYNC_STATES = ['in-sync', 'pending', 'error', 'missing'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** What the reconciler last observed (and did) for one subscription in one instance. */
export interface InstanceObservation {
  readonly instanceId: string;
  readonly name: string;
  /** HealthVault subscription id of ours in that instance (null when there is none yet) */
  readonly hvSubscriptionId: string | null;
  /** every id of ours seen for this URL in the last pass (duplicates included until removed) */
  readonly knownIds: readonly string[];
  readonly state: SyncState;
  /** key version registered in the instance (null when unknown) */
  readonly keyVersion: number | null;
  /**
   * When the instance first confirmed each key version (ascending): a version stays accepted until
   * the horizon has passed since a newer one was confirmed. Entries whose horizon passed are folded
   * into keyFloor. Absent in records written before it existed.
   */
  readonly keyConfirmations?: readonly KeyConfirmation[];
  /** versions below this are no longer accepted in this instance (their horizon passed) */
  readonly keyFloor?: number;
  /** spec revision this observation was made against */
  readonly specRevision: number;
  readonly lastError: string | null;
  readonly lastSync: string | null;
  /** a configuration refusal (133/11/134) for this spec revision: not retried until the spec changes or an operator asks */
  readonly configError?: { readonly hvStatus: number; readonly specRevision: number } | null;
}

export interface KeyConfirmation {
  readonly version: number;
  readonly at: string;
}

export const etagOf = (spec: Pick<SubscriptionSpec, 'name' | 'revision'>): string => `"${spec.name}-r${spec.revision}"`;

/**
 * What a `spec/<name>` record holds: the spec, or a deletion marker that keeps the revision and the
 * highest key version the name had (a re-created name continues above it; absent in old markers).
 * writeId tells a writer whether its record is the one that won its revision (state-log.ts).
 */
export type SpecRecord =
  | (SubscriptionSpec & { readonly deleted?: false; readonly writeId: string })
  | { readonly name: string; readonly deleted: true; readonly revision: number; readonly keyVersion?: number; readonly writeId: string };

/** Instances a spec applies to, given the supported ones. */
export function targetInstances(spec: SubscriptionSpec, supported: readonly string[]): string[] {
  return spec.instances === null ? [...supported] : supported.filter((id) => spec.instances!.includes(id));
}

/** The specs that apply to one instance, given the supported ones. */
export function specsFor(specs: readonly SubscriptionSpec[], supported: readonly string[], instanceId: string): SubscriptionSpec[] {
  return specs.filter((s) => targetInstances(s, supported).includes(instanceId));
}

/** The leader's last pass over one instance, stored so every replica can report it. */
export interface InstanceReport {
  readonly instanceId: string;
  readonly lastPassAt: string | null;
  readonly lastPassOk: boolean;
  readonly lastError: string | null;
  /** subscriptions of the application that are not ours (never touched); `unreadable` says why an entry could not be read */
  readonly foreign: readonly { readonly id: string; readonly url: string; readonly typeIds: readonly string[]; readonly unreadable?: string }[];
}

