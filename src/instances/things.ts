// Reading the things a notification names, in the instance it came from: GetThings v3 over the
// instance's app session, offline for the notification's person (healthvault-protocol.md §4.6).
// These types are what the enrichment stage (src/enrichment/) codes against; HvInstance
// implements ThingsSource, so `registry.platform(instanceId)?.getThings(query)` reads from exactly
// that instance and never another.
import { HvgError, isHvgError } from '../errors.ts';
import { GETTHINGS_GROUP_NAME, GETTHINGS_MAX_IDS_PER_GROUP } from '../healthvault/things.ts';
import type { GetThingsResultGroup } from '../healthvault/things-response.ts';
import { HV_STATUS_RESPONSE_TOO_LONG, HV_STATUS_TOO_MANY_THINGS } from '../healthvault/status-codes.ts';
import { requireGuid } from '../healthvault/validation.ts';

/** One notification's worth of ids: a person, a record and the changed things (§2.2, §4.6.1). */
export interface ThingsQuery {
  /** `offline-person-id` of the request header: the notification's person-id */
  readonly personId: string;
  /** header `record-id`: the notification's record-id ("only one record per call", §4.6.1) */
  readonly recordId: string;
  /** thing ids to read; duplicates are read once, any count (batched over the group limit, §4.6.4) */
  readonly thingIds: readonly string[];
  /**
   * Optional `type-version-format` GUIDs (e.g. the subscription's type ids): the type versions the
   * platform should map the things to; without them it uses the app's configured versions (§4.6.3).
   */
  readonly typeVersionFormats?: readonly string[];
}

/** A thing as GetThings v3 returns it with `core` + `<xml/>` (§4.6.5). GUIDs lower-case. */
export interface FetchedThing {
  readonly thingId: string;
  /** `thing-id/@version-stamp`: changes with every update of the thing */
  readonly versionStamp: string;
  readonly typeId: string;
  /** `type-id/@name` (e.g. "Blood glucose"); optional in the schema, so may be absent */
  readonly typeName?: string;
  /** `thing-state`: Active (apps cannot read Deleted things, §4.6.3) */
  readonly state: string;
  /** `flags`: 0x1 personal, 0x2 down-versioned, 0x4 up-versioned; 0 when absent */
  readonly flags: number;
  /** `eff-date` as sent: an xs:dateTime, usually without a zone (local time of the measurement [I]) */
  readonly effectiveDate?: string;
  /** `updated-end-date` as sent, when the type has one */
  readonly updatedEndDate?: string;
  /** the whole `<data-xml>…</data-xml>` element exactly as received (type root + `common`) */
  readonly dataXml?: string;
}

export interface ThingsAnswer {
  /** things the platform returned, in the order of the query's ids */
  readonly things: readonly FetchedThing[];
  /**
   * requested ids the platform did not return: deleted, never in the record, of a type the app may
   * not read offline, or otherwise hidden — the platform does not say which (§4.6.6)
   */
  readonly missing: readonly string[];
}

/**
 * Errors: every rejection is an HvgError naming the instance (details.instanceId). `err.retriable`
 * says whether retrying later can help: false for access revoked / never granted (11, 18), person
 * or record gone (9, 10) and other refusals (details.hvStatus holds the HealthVault status);
 * true for 5xx, timeouts, unreachable, a session the platform refused twice.
 */
export interface ThingsSource {
  readonly instanceId: string;
  getThings(query: ThingsQuery, signal?: AbortSignal): Promise<ThingsAnswer>;
}

// ---- reading: batching, splitting, follow-ups (used by HvInstance.getThings)

/** How an instance reads things (HV_THINGS_BATCH_SIZE, HV_THINGS_CONCURRENCY). */
export interface ThingsReadOptions {
  /** ids per GetThings request, at most GETTHINGS_MAX_IDS_PER_GROUP (§4.6.4) */
  readonly batchSize: number;
  /** GetThings requests in flight per instance; more wait their turn */
  readonly concurrency: number;
}

export const DEFAULT_THINGS_READ: ThingsReadOptions = Object.freeze({ batchSize: 100, concurrency: 4 });

/** Header parts of a person-scoped call: GetThings acts offline for the person (§4.6.2). */
export interface OfflineTarget {
  readonly recordId: string;
  readonly offlinePersonId: string;
}

/** One signed GetThings for some ids of the query's (person, record): the instance's part. */
export type ThingsRequest = (ids: readonly string[], signal?: AbortSignal) => Promise<GetThingsResultGroup[]>;

/**
 * Reads every id of the query: batches of `batchSize` ids (one group each, §4.6.4), a batch the
 * platform refuses as too long (124 ids, 71 answer size [I]) is halved and retried, and ids that
 * come back as unprocessed-thing-key-info (past the full-thing cap) are asked for again. Ids that
 * come back as nothing are `missing` (§4.6.6). Any other failure rejects the whole query.
 */
export async function readThings(query: ThingsQuery, request: ThingsRequest, batchSize: number, signal?: AbortSignal): Promise<ThingsAnswer> {
  // Checked before anything is sent: the header carries both (§4.6.2).
  requireGuid(query.personId, 'personId');
  requireGuid(query.recordId, 'recordId');
  for (const t of query.typeVersionFormats ?? []) requireGuid(t, 'typeVersionFormats[]');
  const ids = [...new Set(query.thingIds.map((id) => requireGuid(id, 'thingIds[]').toLowerCase()))];
  const found = new Map<string, FetchedThing>();
  const size = Math.max(1, Math.min(batchSize, GETTHINGS_MAX_IDS_PER_GROUP));
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  await Promise.all(batches.map((b) => readBatch(b, request, found, signal)));
  return { things: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) };
}

async function readBatch(ids: string[], request: ThingsRequest, found: Map<string, FetchedThing>, signal?: AbortSignal): Promise<void> {
  let groups: GetThingsResultGroup[];
  try {
    groups = await request(ids, signal);
  } catch (err) {
    const status = isHvgError(err) ? err.details?.hvStatus : undefined;
    if ((status === HV_STATUS_TOO_MANY_THINGS || status === HV_STATUS_RESPONSE_TOO_LONG) && ids.length > 1) {
      const half = Math.ceil(ids.length / 2);
      await Promise.all([readBatch(ids.slice(0, half), request, found, signal), readBatch(ids.slice(half), request, found, signal)]);
      return;
    }
    throw err;
  }
  // One group was sent; its answer is the one with the same name (.NET pairs named with named [C]).
  const group = groups.find((g) => g.name === GETTHINGS_GROUP_NAME) ?? groups[0];
  const wanted = new Set(ids);
  // [I] a thing we did not ask for is ignored rather than trusted: it cannot be matched to a notification.
  for (const thing of group?.things ?? []) if (wanted.has(thing.thingId)) found.set(thing.thingId, thing);
  const again = [...new Set((group?.unprocessed ?? []).map((k) => k.thingId))].filter((id) => wanted.has(id) && !found.has(id));
  if (again.length === 0) return;
  // Past the cap only keys come back; fetching them again must make progress, or we would loop.
  if (again.length >= ids.length) {
    throw new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `GetThings returned no full thing for ${ids.length} ids, only unprocessed keys`);
  }
  await readBatch(again, request, found, signal);
}

/** A counting semaphore: at most `limit` calls run, the others wait in order (abortable). */
export class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#active >= this.#limit) await this.#wait(signal);
    else this.#active += 1;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#active -= 1;
      else next(); // the slot passes on
    }
  }

  #wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(go);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(go);
    });
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
