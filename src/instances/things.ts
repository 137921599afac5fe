// Reading the things a notification names, in the instance it came from: GetThings v3 over the
// instance's app session, offline for the notification's person (healthvault-protocol.md §4.6).
// These types are what the enrichment stage (src/enrichment/) codes against; HvInstance
// implements ThingsSource, so `registry.platform(instanceId)?.getThings(query)` reads from exactly
// that instance and never another.

/** One notification's worth of ids: a person, a record and the changed things (§2.2, §4.6.1). */
export interface ThingsQuery {
  /** `offline-person-id` of the request header: the notification's person-id */
  readonly personId: string;
  /** header `record-id`: the notification's record-id ("only one record per call", §4.6.1) */
  readonly recordId: string;
  /** thing ids to read; duplicates are read once, any count (batched over the group limit, §4.6.4) */
  readonly thingIds: readonly string[];
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
