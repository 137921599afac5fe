// The subscription use cases behind the REST API, Fastify-free: validation with messages that
// name the field, ETag/If-Match concurrency, key rotation, and the per-instance status that
// combines the desired spec with the reconciler's observations.
import { HvgError } from '../errors.ts';
import { EVENT_TYPES, NAME_PATTERN, etagOf, targetInstances, type EventType, type InstanceObservation, type SubscriptionSpec, type SyncState } from './model.ts';
import { callbackUrl } from './plan.ts';
import type { SubscriptionStore } from './store.ts';

export interface SubscriptionInput {
  eventType?: string;
  typeIds?: unknown;
  instances?: unknown;
  keyVersion?: unknown;
}

export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

export interface InstanceState {
  instanceId: string;
  state: SyncState;
  hvSubscriptionId: string | null;
  callbackUrl: string;
  keyVersion: number | null;
  lastError: string | null;
  lastSync: string | null;
}

export interface SubscriptionView {
  spec: SubscriptionSpec;
  etag: string;
  instances: InstanceState[];
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_TYPE_IDS = 100;

const invalid = (field: string, message: string) => new HvgError('HVG_ERR_VALIDATION', `${field} ${message}`, { details: { field } });

/** Observed state as the API reports it (see README "Subscription states"). */
export function stateOf(spec: SubscriptionSpec, o: InstanceObservation | undefined): SyncState {
  if (o === undefined) return 'pending';
  if (o.state === 'error') return 'error';
  if (o.hvSubscriptionId === null) return 'missing';
  if (o.specRevision < spec.revision || o.keyVersion !== spec.keyVersion) return 'pending';
  return 'in-sync';
}

export class SubscriptionService {
  readonly #store: SubscriptionStore;
  readonly #instances: () => readonly string[];
  readonly #publicBaseUrl: string;
  readonly #now: () => Date;

  constructor(opts: { store: SubscriptionStore; supportedInstances: () => readonly string[]; publicBaseUrl: string; now?: () => Date }) {
    this.#store = opts.store;
    this.#instances = opts.supportedInstances;
    this.#publicBaseUrl = opts.publicBaseUrl;
    this.#now = opts.now ?? (() => new Date());
  }

  static validateName(name: string): void {
    if (!NAME_PATTERN.test(name)) throw invalid('name', `"${name.slice(0, 80)}" must be a slug: 1-63 lower-case letters, digits or "-", starting and ending with a letter or digit`);
  }

  list(): SubscriptionView[] {
    return this.#store.view.specs().map((s) => this.#present(s));
  }

  get(name: string): SubscriptionView {
    SubscriptionService.validateName(name);
    const spec = this.#store.view.spec(name);
    if (!spec) throw new HvgError('HVG_ERR_NOT_FOUND', `no subscription named "${name}"`);
    return this.#present(spec);
  }

  #present(spec: SubscriptionSpec): SubscriptionView {
    const view = this.#store.view;
    const instances = targetInstances(spec, this.#instances()).map((instanceId): InstanceState => {
      const o = view.observation(instanceId, spec.name);
      return {
        instanceId,
        state: stateOf(spec, o),
        hvSubscriptionId: o?.hvSubscriptionId ?? null,
        callbackUrl: callbackUrl(this.#publicBaseUrl, instanceId, spec.name),
        keyVersion: o?.keyVersion ?? null,
        lastError: o?.lastError ?? null,
        lastSync: o?.lastSync ?? null,
      };
    });
    return { spec, etag: etagOf(spec), instances };
  }

  #check(name: string, current: SubscriptionSpec | undefined, p: Preconditions): void {
    if (p.ifNoneMatch !== undefined && p.ifNoneMatch.trim() === '*' && current) {
      throw new HvgError('HVG_ERR_PRECONDITION_FAILED', `subscription "${name}" already exists (If-None-Match: *)`);
    }
    if (p.ifMatch !== undefined) {
      const tags = p.ifMatch.split(',').map((s) => s.trim().replace(/^W\//, ''));
      const ok = current !== undefined && (tags.includes('*') || tags.includes(etagOf(current)));
      if (!ok) {
        throw new HvgError('HVG_ERR_PRECONDITION_FAILED', current ? `subscription "${name}" changed: its ETag is now ${etagOf(current)}; re-read it and retry` : `subscription "${name}" does not exist (If-Match)`, {
          details: { etag: current ? etagOf(current) : null },
        });
      }
    }
  }

  #parse(input: SubscriptionInput, current: SubscriptionSpec | undefined): { eventType: EventType; typeIds: string[]; instances: string[] | null; keyVersion: number } {
    const eventType = input.eventType ?? 'record-item-changed';
    if (!(EVENT_TYPES as readonly string[]).includes(eventType)) throw invalid('eventType', `must be one of ${EVENT_TYPES.join(', ')}, got "${String(eventType).slice(0, 80)}"`);
    const raw = input.typeIds;
    if (!Array.isArray(raw) || raw.length === 0) throw invalid('typeIds', 'must be a non-empty array of thing type ids (GUIDs)');
    if (raw.length > MAX_TYPE_IDS) throw invalid('typeIds', `must have at most ${MAX_TYPE_IDS} entries`);
    raw.forEach((v, i) => {
      if (typeof v !== 'string' || !GUID.test(v)) throw invalid(`typeIds[${i}]`, `must be a GUID like 879e7c04-4e8a-4707-9ad3-b054df467ce4, got ${JSON.stringify(v)?.slice(0, 80)}`);
    });
    const typeIds = [...new Set((raw as string[]).map((v) => v.toLowerCase()))].sort();
    let instances: string[] | null = null;
    if (input.instances !== undefined && input.instances !== null) {
      if (!Array.isArray(input.instances) || input.instances.length === 0) throw invalid('instances', 'must be null (every supported instance) or a non-empty array of instance ids');
      const supported = this.#instances();
      input.instances.forEach((v, i) => {
        if (typeof v !== 'string' || v === '' || v.length > 255) throw invalid(`instances[${i}]`, 'must be an instance id string');
        if (supported.length > 0 && !supported.includes(v)) throw invalid(`instances[${i}]`, `"${v}" is not a supported instance (supported: ${supported.join(', ')})`);
      });
      instances = [...new Set(input.instances as string[])].sort();
    }
    const currentVersion = current?.keyVersion ?? 1;
    let keyVersion = currentVersion;
    if (input.keyVersion !== undefined) {
      if (typeof input.keyVersion !== 'number' || !Number.isInteger(input.keyVersion) || input.keyVersion < 1 || input.keyVersion > 999_999_999) throw invalid('keyVersion', 'must be a positive integer');
      if (input.keyVersion < currentVersion) throw invalid('keyVersion', `must not go back (current ${currentVersion}); use POST /v1/subscriptions/{name}/rotate-key to rotate`);
      keyVersion = input.keyVersion;
    }
    return { eventType: eventType as EventType, typeIds, instances, keyVersion };
  }

  /** Create or replace. Resolves once the change is stored and applied (read-your-writes). */
  async put(name: string, input: SubscriptionInput, p: Preconditions = {}): Promise<{ view: SubscriptionView; created: boolean }> {
    SubscriptionService.validateName(name);
    const view = this.#store.view;
    const current = view.spec(name);
    this.#check(name, current, p);
    const v = this.#parse(input, current);
    const now = this.#now().toISOString();
    const rotated = current !== undefined && v.keyVersion !== current.keyVersion;
    const next: SubscriptionSpec = {
      name,
      ...v,
      previousKeyVersion: rotated ? current.keyVersion : (current?.previousKeyVersion ?? null),
      keyRotatedAt: rotated ? now : (current?.keyRotatedAt ?? null),
      revision: (view.lastSpecWrite(name)?.revision ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
    };
    if (current && sameContent(current, next)) return { view: this.#present(current), created: false };
    await this.#write(name, next);
    return { view: this.#present(view.spec(name)!), created: current === undefined };
  }

  async delete(name: string, p: Preconditions = {}): Promise<void> {
    SubscriptionService.validateName(name);
    const current = this.#store.view.spec(name);
    if (!current) throw new HvgError('HVG_ERR_NOT_FOUND', `no subscription named "${name}"`);
    this.#check(name, current, p);
    await this.#write(name, { name, deleted: true, revision: current.revision + 1 });
  }

  /** New key version in every instance; the previous one stays valid for the overlap window. */
  async rotateKey(name: string, p: Preconditions = {}): Promise<SubscriptionView> {
    const current = this.get(name).spec;
    this.#check(name, current, p);
    return (await this.put(name, { eventType: current.eventType, typeIds: current.typeIds, instances: current.instances, keyVersion: current.keyVersion + 1 }, {})).view;
  }

  async #write(name: string, record: Parameters<SubscriptionStore['writeSpec']>[0]): Promise<void> {
    if (!(await this.#store.writeSpec(record))) {
      const now = this.#store.view.spec(name);
      throw new HvgError('HVG_ERR_PRECONDITION_FAILED', `subscription "${name}" was changed concurrently${now ? ` (ETag now ${etagOf(now)})` : ''}; re-read it and retry`);
    }
  }
}

function sameContent(a: SubscriptionSpec, b: SubscriptionSpec): boolean {
  return a.eventType === b.eventType && a.keyVersion === b.keyVersion && JSON.stringify(a.typeIds) === JSON.stringify(b.typeIds) && JSON.stringify(a.instances) === JSON.stringify(b.instances);
}
