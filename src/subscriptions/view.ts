// A replica's view of the state log: the compacted topic folded record by record.
// Every replica builds the same view from the same log; writers wait until their own record
// is applied here before answering (read-your-writes). The data path asks it which key
// versions and HealthVault subscription ids a callback URL accepts. Pure: no I/O, fed by a
// StateLog (state-log.ts) in log order.
import { acceptedKeys, type AcceptedKey } from './key-acceptance.ts';
import type { InstanceObservation, InstanceReport, SpecRecord, SubscriptionSpec } from './model.ts';
import { observationKey, parseStateKey, type StateKey } from './state-keys.ts';

export interface NotificationRoute {
  readonly spec: SubscriptionSpec;
  /** key versions whose keys may sign a notification in this instance now (key-acceptance.ts) */
  readonly keyVersions: readonly number[];
  /** HealthVault subscription ids (lower-case) that are ours for this (instance, name) */
  readonly subscriptionIds: ReadonlySet<string>;
}

export type AppliedListener = (offset: number, key: StateKey) => void;

export class StateView {
  readonly #specs = new Map<string, SubscriptionSpec>();
  /** last applied spec record per name (deletion markers included): the revision to beat */
  readonly #lastWrite = new Map<string, SpecRecord>();
  readonly #observed = new Map<string, InstanceObservation>();
  readonly #reports = new Map<string, InstanceReport>();
  readonly #keyHorizonMs: number;
  #appliedOffset = -1;
  readonly #listeners = new Set<AppliedListener>();
  /** routes of (instance, name) pairs the reconciler has observed, valid until `expires` or the next change */
  #routes = new Map<string, { route: NotificationRoute; expires: number }>();

  /** keyRetryHorizonMs: how long an older key stays accepted after an instance confirmed a newer one */
  constructor(keyRetryHorizonMs: number) {
    this.#keyHorizonMs = keyRetryHorizonMs;
  }

  get appliedOffset(): number {
    return this.#appliedOffset;
  }

  /** Fold one store record (value null = tombstone). Unknown keys are ignored (forward compatibility). */
  apply(rawKey: string, value: unknown, offset: number): void {
    const key = parseStateKey(rawKey);
    if (key.kind === 'spec') {
      const { name } = key;
      const rec = value as SpecRecord | null;
      const current = this.#lastWrite.get(name)?.revision ?? 0;
      if (rec === null) {
        this.#specs.delete(name);
        this.#lastWrite.delete(name);
      } else if (typeof rec.revision === 'number' && rec.revision > current) {
        // first write of a revision wins; a concurrent write with the same revision is ignored
        this.#lastWrite.set(name, rec);
        if (rec.deleted === true) this.#specs.delete(name);
        else {
          const { writeId: _w, deleted: _d, ...spec } = rec;
          this.#specs.set(name, spec);
        }
      }
      this.#routes.clear(); // specs change rarely; every cached route may depend on this one
    } else if (key.kind === 'observation') {
      const k = observationKey(key.instanceId, key.name);
      if (value === null) this.#observed.delete(k);
      else this.#observed.set(k, value as InstanceObservation);
      this.#routes.delete(k);
    } else if (key.kind === 'report') {
      if (value === null) this.#reports.delete(key.instanceId);
      else this.#reports.set(key.instanceId, value as InstanceReport);
    }
    if (offset > this.#appliedOffset) this.#appliedOffset = offset;
    for (const l of this.#listeners) l(offset, key);
  }

  /** Called after every applied record, in log order; returns the unsubscribe function. */
  onApplied(listener: AppliedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once the record at `offset` (or a later one) is applied; rejects after timeoutMs. */
  waitForOffset(offset: number, timeoutMs: number): Promise<void> {
    if (this.#appliedOffset >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.onApplied(() => {
        if (this.#appliedOffset >= offset) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`store record ${offset} not applied within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** The winning record for a name (for writers: did my write win? what revision comes next?). */
  lastSpecWrite(name: string): SpecRecord | undefined {
    return this.#lastWrite.get(name);
  }

  spec(name: string): SubscriptionSpec | undefined {
    return this.#specs.get(name);
  }

  specs(): SubscriptionSpec[] {
    return [...this.#specs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  observation(instanceId: string, name: string): InstanceObservation | undefined {
    return this.#observed.get(observationKey(instanceId, name));
  }

  report(instanceId: string): InstanceReport | undefined {
    return this.#reports.get(instanceId);
  }

  observations(): InstanceObservation[] {
    return [...this.#observed.values()];
  }

  /** Key versions `instanceId` may sign with for `spec` now, newest first, with when each stops being accepted. */
  acceptedKeys(spec: SubscriptionSpec, instanceId: string, now: number = Date.now()): AcceptedKey[] {
    return acceptedKeys(spec, this.#observed.get(observationKey(instanceId, spec.name)), this.#keyHorizonMs, now);
  }

  /** What POST /notifications/{instanceId}/{name} accepts, or undefined when that URL is not one of ours. */
  route(instanceId: string, name: string, at?: number): NotificationRoute | undefined {
    const spec = this.#specs.get(name);
    if (spec === undefined || (spec.instances !== null && !spec.instances.includes(instanceId))) return undefined;
    const now = at ?? Date.now();
    const key = observationKey(instanceId, name);
    const cached = at === undefined ? this.#routes.get(key) : undefined; // an explicit time (tests, what-if) bypasses the cache
    if (cached !== undefined && now < cached.expires) return cached.route;
    const o = this.#observed.get(key);
    const accepted = acceptedKeys(spec, o, this.#keyHorizonMs, now);
    const ids = new Set<string>([...(o?.knownIds ?? []), ...(o?.hvSubscriptionId ? [o.hvSubscriptionId] : [])].map((id) => id.toLowerCase()));
    const route: NotificationRoute = { spec, keyVersions: accepted.map((k) => k.version), subscriptionIds: ids };
    // Cached only for pairs the reconciler observed (a bounded set): a URL with a made-up instance
    // id must not grow this map. Valid until the first accepted version expires.
    if (o !== undefined && at === undefined) this.#routes.set(key, { route, expires: Math.min(...accepted.map((k) => k.until ?? Infinity)) });
    return route;
  }
}
