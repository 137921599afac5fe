// A replica's view of the subscription store: the compacted topic folded record by record.
// Every replica builds the same view from the same log; writers wait until their own record
// is applied here before answering (read-your-writes). The data path asks it which key
// versions and HealthVault subscription ids a callback URL accepts.
import { EventEmitter } from 'node:events';
import type { InstanceObservation, InstanceReport, SubscriptionSpec } from './model.ts';
import { observationKey } from './model.ts';

export interface NotificationRoute {
  readonly spec: SubscriptionSpec;
  /** key versions whose keys may sign a notification now: current, plus previous within the overlap */
  readonly keyVersions: readonly number[];
  /** HealthVault subscription ids (lower-case) that are ours for this (instance, name) */
  readonly subscriptionIds: ReadonlySet<string>;
}

/** What a `spec/<name>` record holds: the spec, or a deletion marker that keeps the revision. */
export type SpecRecord = (SubscriptionSpec & { readonly deleted?: false; readonly writeId: string }) | { readonly name: string; readonly deleted: true; readonly revision: number; readonly writeId: string };

export class SubscriptionView extends EventEmitter {
  readonly #specs = new Map<string, SubscriptionSpec>();
  /** last applied spec record per name (deletion markers included): the revision to beat */
  readonly #lastWrite = new Map<string, SpecRecord>();
  readonly #observed = new Map<string, InstanceObservation>();
  readonly #reports = new Map<string, InstanceReport>();
  readonly #keyOverlapMs: number;
  #appliedOffset = -1;
  #ids = new Map<string, Set<string>>();

  constructor(keyOverlapMs: number) {
    super();
    this.#keyOverlapMs = keyOverlapMs;
  }

  get appliedOffset(): number {
    return this.#appliedOffset;
  }

  /** Fold one store record (value null = tombstone). Unknown keys are ignored (forward compatibility). */
  apply(key: string, value: unknown, offset: number): void {
    if (key.startsWith('spec/')) {
      const name = key.slice(5);
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
    } else if (key.startsWith('observed/')) {
      if (value === null) this.#observed.delete(key);
      else this.#observed.set(key, value as InstanceObservation);
      this.#ids.delete(key);
    } else if (key.startsWith('instance/')) {
      const id = decodeURIComponent(key.slice(9));
      if (value === null) this.#reports.delete(id);
      else this.#reports.set(id, value as InstanceReport);
    }
    if (offset > this.#appliedOffset) this.#appliedOffset = offset;
    this.emit('applied', offset, key);
  }

  /** Resolves once the record at `offset` (or a later one) is applied; rejects after timeoutMs. */
  waitForOffset(offset: number, timeoutMs: number): Promise<void> {
    if (this.#appliedOffset >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onApplied = () => {
        if (this.#appliedOffset >= offset) {
          clearTimeout(timer);
          this.off('applied', onApplied);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.off('applied', onApplied);
        reject(new Error(`store record ${offset} not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('applied', onApplied);
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

  /** Key versions accepted for a spec at `now`: the current one, and the previous one during the overlap. */
  acceptedKeyVersions(spec: SubscriptionSpec, now: number = Date.now()): number[] {
    const versions = [spec.keyVersion];
    if (spec.previousKeyVersion !== null && spec.keyRotatedAt !== null && now < Date.parse(spec.keyRotatedAt) + this.#keyOverlapMs) {
      versions.push(spec.previousKeyVersion);
    }
    return versions;
  }

  /** What POST /notifications/{instanceId}/{name} accepts, or undefined when that URL is not one of ours. */
  route(instanceId: string, name: string, now: number = Date.now()): NotificationRoute | undefined {
    const spec = this.#specs.get(name);
    if (spec === undefined || (spec.instances !== null && !spec.instances.includes(instanceId))) return undefined;
    const key = observationKey(instanceId, name);
    let ids = this.#ids.get(key);
    if (ids === undefined) {
      const o = this.#observed.get(key);
      ids = new Set<string>([...(o?.knownIds ?? []), ...(o?.hvSubscriptionId ? [o.hvSubscriptionId] : [])].map((id) => id.toLowerCase()));
      this.#ids.set(key, ids);
    }
    return { spec, keyVersions: this.acceptedKeyVersions(spec, now), subscriptionIds: ids };
  }
}
