// The subscription use cases behind the REST API, Fastify-free: validation with messages that
// name the field, ETag/If-Match concurrency, key rotation, and the per-instance status that
// combines the desired spec with the reconciler's observations.
import { HvgError } from '../errors.ts';
import { isGuid, SUBSCRIPTION_LIMIT } from '../healthvault/index.ts';
import { EVENT_TYPES, NAME_PATTERN, etagOf, targetInstances, type EventType, type InstanceObservation, type SubscriptionSpec, type SyncState } from './model.ts';
import { specFloor } from './key-acceptance.ts';
import { callbackUrl } from './plan.ts';
import { writeSpec, type SpecWrite, type StateLog } from './state-log.ts';

export interface SubscriptionInput {
  eventType?: string;
  typeIds?: unknown;
  instances?: unknown;
  keyVersion?: unknown;
  /** enrichment stage on/off (gateway-only; default false) */
  enrich?: unknown;
}

export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  /** internal (rotateKey): the new version is the only one accepted from now on */
  revokePrevious?: boolean;
}

export interface InstanceState {
  instanceId: string;
  state: SyncState;
  hvSubscriptionId: string | null;
  callbackUrl: string;
  keyVersion: number | null;
  /** key versions this instance may sign with now, newest first; `until` null = until it confirms a newer one */
  acceptedKeyVersions: { version: number; until: string | null }[];
  lastError: string | null;
  lastSync: string | null;
}

/** A subscription as the REST API presents it: the spec, its ETag and its state in every instance it applies to. */
export interface SubscriptionResource {
  spec: SubscriptionSpec;
  etag: string;
  instances: InstanceState[];
}

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
  readonly #state: StateLog;
  readonly #instances: () => readonly string[];
  readonly #publicBaseUrl: string;
  readonly #now: () => Date;

  constructor(opts: { state: StateLog; supportedInstances: () => readonly string[]; publicBaseUrl: string; now?: () => Date }) {
    this.#state = opts.state;
    this.#instances = opts.supportedInstances;
    this.#publicBaseUrl = opts.publicBaseUrl;
    this.#now = opts.now ?? (() => new Date());
  }

  static validateName(name: string): void {
    if (!NAME_PATTERN.test(name)) throw invalid('name', `"${name.slice(0, 80)}" must be a slug: 1-63 lower-case letters, digits or "-", starting and ending with a letter or digit`);
  }

  list(): SubscriptionResource[] {
    return this.#state.view.specs().map((s) => this.#present(s));
  }

  get(name: string): SubscriptionResource {
    SubscriptionService.validateName(name);
    const spec = this.#state.view.spec(name);
    if (!spec) throw new HvgError('HVG_ERR_NOT_FOUND', `no subscription named "${name}"`);
    return this.#present(spec);
  }

  #present(spec: SubscriptionSpec): SubscriptionResource {
    const view = this.#state.view;
    const instances = targetInstances(spec, this.#instances()).map((instanceId): InstanceState => {
      const o = view.observation(instanceId, spec.name);
      return {
        instanceId,
        state: stateOf(spec, o),
        hvSubscriptionId: o?.hvSubscriptionId ?? null,
        callbackUrl: callbackUrl(this.#publicBaseUrl, instanceId, spec.name),
        keyVersion: o?.keyVersion ?? null,
        acceptedKeyVersions: view.acceptedKeys(spec, instanceId).map((k) => ({ version: k.version, until: k.until === null ? null : new Date(k.until).toISOString() })),
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
      // RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag (W/"…") never matches.
      const tags = p.ifMatch.split(',').map((s) => s.trim());
      const ok = current !== undefined && (tags.includes('*') || tags.includes(etagOf(current)));
      if (!ok) {
        throw new HvgError('HVG_ERR_PRECONDITION_FAILED', current ? `subscription "${name}" changed: its ETag is now ${etagOf(current)}; re-read it and retry` : `subscription "${name}" does not exist (If-Match)`, {
          details: { etag: current ? etagOf(current) : null },
        });
      }
    }
  }

  #parse(name: string, input: SubscriptionInput, current: SubscriptionSpec | undefined): { eventType: EventType; typeIds: string[]; instances: string[] | null; keyVersion: number; enrich: boolean } {
    const eventType = input.eventType ?? 'record-item-changed';
    if (!(EVENT_TYPES as readonly string[]).includes(eventType)) throw invalid('eventType', `must be one of ${EVENT_TYPES.join(', ')}, got "${String(eventType).slice(0, 80)}"`);
    const raw = input.typeIds;
    if (!Array.isArray(raw) || raw.length === 0) throw invalid('typeIds', 'must be a non-empty array of thing type ids (GUIDs)');
    if (raw.length > MAX_TYPE_IDS) throw invalid('typeIds', `must have at most ${MAX_TYPE_IDS} entries`);
    raw.forEach((v, i) => {
      if (typeof v !== 'string' || !isGuid(v)) throw invalid(`typeIds[${i}]`, `must be a GUID like 879e7c04-4e8a-4707-9ad3-b054df467ce4, got ${JSON.stringify(v)?.slice(0, 80)}`);
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
    // Version numbers of a name never restart and never jump (issue 11 point 8): a new name starts
    // above every version it had before a deletion; an existing one moves by exactly one.
    const next = current === undefined ? this.#firstKeyVersion(name) : current.keyVersion + 1;
    let keyVersion = current?.keyVersion ?? next;
    if (input.keyVersion !== undefined) {
      if (input.keyVersion !== next) {
        throw invalid('keyVersion', `may be omitted or ${next}${current === undefined ? ' (the first version of this name)' : ` (current ${current.keyVersion} + 1, which rotates the key)`}, got ${JSON.stringify(input.keyVersion)?.slice(0, 40)}`);
      }
      keyVersion = next;
    }
    if (input.enrich !== undefined && typeof input.enrich !== 'boolean') throw invalid('enrich', `must be true or false, got ${JSON.stringify(input.enrich)?.slice(0, 40)}`);
    return { eventType: eventType as EventType, typeIds, instances, keyVersion, enrich: input.enrich === true };
  }

  /** First key version of a (re-)created name: above every version a deletion marker remembers. */
  #firstKeyVersion(name: string): number {
    const last = this.#state.view.lastSpecWrite(name);
    return (last?.deleted === true ? (last.keyVersion ?? 0) : 0) + 1;
  }

  /**
   * HealthVault holds at most 25 subscriptions per application and instance [C] (§1.1): refuse up
   * front a change that would add this one to an instance already at the limit (ours + foreign,
   * as the last pass saw them), instead of failing with 133 in the reconciler later.
   */
  #checkLimit(name: string, current: SubscriptionSpec | undefined, instances: string[] | null): void {
    const view = this.#state.view;
    const supported = this.#instances();
    const before = new Set(current ? targetInstances(current, supported) : []);
    const specs = view.specs().filter((s) => s.name !== name);
    for (const instanceId of instances === null ? supported : supported.filter((id) => instances.includes(id))) {
      if (before.has(instanceId)) continue; // already there: no new subscription in that instance
      const ours = specs.filter((s) => targetInstances(s, supported).includes(instanceId)).length;
      const foreign = view.report(instanceId)?.foreign.length ?? 0;
      if (ours + foreign + 1 > SUBSCRIPTION_LIMIT) {
        throw new HvgError('HVG_ERR_SUBSCRIPTION_LIMIT',
          `instance "${instanceId}" already holds ${ours + foreign} of the application's ${SUBSCRIPTION_LIMIT} subscriptions (${ours} of the gateway's, ${foreign} foreign); ` +
          'delete one there, or limit this subscription to other instances with "instances"',
          { details: { instanceId, count: ours + foreign, ours, foreign, limit: SUBSCRIPTION_LIMIT } });
      }
    }
  }

  /** Create or replace. Resolves once the change is stored and applied (read-your-writes). */
  async put(name: string, input: SubscriptionInput, p: Preconditions = {}): Promise<{ view: SubscriptionResource; created: boolean }> {
    SubscriptionService.validateName(name);
    const view = this.#state.view;
    const current = view.spec(name);
    this.#check(name, current, p);
    const v = this.#parse(name, input, current);
    this.#checkLimit(name, current, v.instances);
    const now = this.#now().toISOString();
    const rotated = current !== undefined && v.keyVersion !== current.keyVersion;
    const next: SubscriptionSpec = {
      name,
      ...v,
      previousKeyVersion: rotated ? current.keyVersion : (current?.previousKeyVersion ?? null),
      keyRotatedAt: rotated ? now : (current?.keyRotatedAt ?? null),
      keyVersionFloor: p.revokePrevious === true ? v.keyVersion : current === undefined ? v.keyVersion : specFloor(current),
      revision: (view.lastSpecWrite(name)?.revision ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      enrichSince: v.enrich ? (current?.enrich === true ? (current.enrichSince ?? current.updatedAt) : now) : null,
    };
    if (current && sameContent(current, next)) return { view: this.#present(current), created: false };
    await this.#write(name, next);
    return { view: this.#present(view.spec(name)!), created: current === undefined };
  }

  async delete(name: string, p: Preconditions = {}): Promise<void> {
    SubscriptionService.validateName(name);
    const current = this.#state.view.spec(name);
    if (!current) throw new HvgError('HVG_ERR_NOT_FOUND', `no subscription named "${name}"`);
    this.#check(name, current, p);
    // the marker keeps the highest version, so every version of this name is revoked for good
    await this.#write(name, { name, deleted: true, revision: current.revision + 1, keyVersion: current.keyVersion });
  }

  /**
   * New key version in every instance. Older versions stay accepted per instance until it has
   * confirmed the new one and the retry horizon passed (key-acceptance.ts); `revokePrevious`
   * refuses them at once (a leaked key), at the price of losing what the platform still retries.
   */
  async rotateKey(name: string, p: Preconditions = {}, opts: { revokePrevious?: boolean } = {}): Promise<SubscriptionResource> {
    const current = this.get(name).spec;
    this.#check(name, current, p);
    const input = { eventType: current.eventType, typeIds: current.typeIds, instances: current.instances, keyVersion: current.keyVersion + 1, enrich: current.enrich === true };
    return (await this.put(name, input, { revokePrevious: opts.revokePrevious === true })).view;
  }

  async #write(name: string, record: SpecWrite): Promise<void> {
    if (!(await writeSpec(this.#state, record))) {
      const now = this.#state.view.spec(name);
      throw new HvgError('HVG_ERR_PRECONDITION_FAILED', `subscription "${name}" was changed concurrently${now ? ` (ETag now ${etagOf(now)})` : ''}; re-read it and retry`);
    }
  }
}

function sameContent(a: SubscriptionSpec, b: SubscriptionSpec): boolean {
  return a.eventType === b.eventType && (a.enrich === true) === (b.enrich === true) && a.keyVersion === b.keyVersion && specFloor(a) === specFloor(b) && JSON.stringify(a.typeIds) === JSON.stringify(b.typeIds) && JSON.stringify(a.instances) === JSON.stringify(b.instances);
}
