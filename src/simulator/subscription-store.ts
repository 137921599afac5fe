// Event subscriptions held by one instance (healthvault-protocol.md §1): ids are assigned here
// (each instance assigns its own, §5), they belong to the calling application, persist until
// deleted, and carry one current (key, key version) pair used to sign notifications (§2.5).
import { randomUUID } from 'node:crypto';
import { validateSubscriptionSpec } from '../healthvault/index.ts';
import type { EventSubscriptionSpec } from '../healthvault/index.ts';

export interface StoredSubscription {
  readonly id: string;
  readonly appId: string;
  key: Buffer;
  keyVersionId: string;
  url: string;
  /** One list per filter, as the app sent them (echoed unchanged, compared case-insensitively). */
  typeIds: string[][];
  readonly createdAt: string;
  updatedAt: string;
}

/** JSON view for the control API. The key is a test key of a simulator; it is shown on purpose. */
export interface SimSubscriptionView {
  readonly id: string;
  readonly appId: string;
  readonly url: string;
  readonly keyVersionId: string;
  readonly keyBase64: string;
  readonly typeIds: string[][];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function subscriptionView(s: StoredSubscription): SimSubscriptionView {
  return {
    id: s.id, appId: s.appId, url: s.url, keyVersionId: s.keyVersionId, keyBase64: s.key.toString('base64'),
    typeIds: s.typeIds.map((f) => [...f]), createdAt: s.createdAt, updatedAt: s.updatedAt,
  };
}

/** As the codec builds it into GetEventSubscriptions (key echoed [I], §1.4). */
export function subscriptionSpec(s: StoredSubscription): EventSubscriptionSpec & { readonly id: string } {
  return { id: s.id, key: s.key, keyVersionId: s.keyVersionId, url: s.url, typeIds: s.typeIds };
}

export interface SubscriptionFields {
  readonly key: Buffer;
  readonly keyVersionId: string;
  readonly url: string;
  readonly typeIds: readonly (readonly string[])[];
}

export class SimSubscriptionStore {
  readonly #byId = new Map<string, StoredSubscription>();
  readonly #families: ReadonlyMap<string, string>;

  /** `families`: thing type id → family name, so a filter on any version matches all (§1.1). */
  constructor(families: readonly (readonly string[])[]) {
    const map = new Map<string, string>();
    families.forEach((f, i) => f.forEach((id) => map.set(id.toLowerCase(), `family-${i}`)));
    this.#families = map;
  }

  countForApp(appId: string): number {
    let n = 0;
    for (const s of this.#byId.values()) if (s.appId === appId) n += 1;
    return n;
  }

  /** Every subscription of the app in this instance, oldest first. */
  listForApp(appId: string): StoredSubscription[] {
    return [...this.#byId.values()].filter((s) => s.appId === appId);
  }

  all(): StoredSubscription[] {
    return [...this.#byId.values()];
  }

  get(id: string): StoredSubscription | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** Fields must already be valid (parsed by the codec or checked with validateSubscriptionSpec). */
  create(appId: string, fields: SubscriptionFields): StoredSubscription {
    const now = new Date().toISOString();
    const sub: StoredSubscription = {
      id: randomUUID(), appId, key: fields.key, keyVersionId: fields.keyVersionId, url: fields.url,
      typeIds: normalizeFilters(fields.typeIds), createdAt: now, updatedAt: now,
    };
    this.#byId.set(sub.id, sub);
    return sub;
  }

  /** Replaces the whole subscription, as UpdateEventSubscription does (§1.5). */
  replace(sub: StoredSubscription, fields: SubscriptionFields): StoredSubscription {
    sub.key = fields.key;
    sub.keyVersionId = fields.keyVersionId;
    sub.url = fields.url;
    sub.typeIds = normalizeFilters(fields.typeIds);
    sub.updatedAt = new Date().toISOString();
    return sub;
  }

  /** Control-API edits "behind the app's back": any subset of fields, validated by the codec. */
  alter(sub: StoredSubscription, patch: Partial<{ key: string; keyVersionId: string; url: string; typeIds: string[][] }>): StoredSubscription {
    const spec: EventSubscriptionSpec = {
      key: patch.key ?? sub.key, keyVersionId: patch.keyVersionId ?? sub.keyVersionId,
      url: patch.url ?? sub.url, typeIds: patch.typeIds ?? sub.typeIds,
    };
    const key = validateSubscriptionSpec(spec);
    return this.replace(sub, { key, keyVersionId: spec.keyVersionId, url: spec.url, typeIds: spec.typeIds });
  }

  delete(id: string): boolean {
    return this.#byId.delete(id.toLowerCase());
  }

  /**
   * Subscriptions a change of a thing of `typeId` notifies: any filter listing that type (or
   * another version of it) fires (§1.1 [S]; "any of these types" inside one filter [I]).
   */
  matching(typeId: string): StoredSubscription[] {
    const wanted = typeId.toLowerCase();
    const family = this.#families.get(wanted);
    const hit = (id: string): boolean => id === wanted || (family !== undefined && this.#families.get(id) === family);
    return [...this.#byId.values()].filter((s) => s.typeIds.some((filter) => filter.some((id) => hit(id.toLowerCase()))));
  }
}

function normalizeFilters(typeIds: readonly (readonly string[])[]): string[][] {
  return typeIds.map((f) => [...f]);
}
