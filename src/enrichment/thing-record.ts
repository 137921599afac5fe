// The things-topic record contract (version 1), documented in README.md "Things record contract".
// One record per thing of an enriched event, CloudEvents 1.0 in Kafka binary mode like the events.
// Key {instanceId}:{recordId}:{thingId}: a compacted topic keeps the latest state of every thing,
// and all states of one thing stay in order in one partition.
import { createHash } from 'node:crypto';
import type { SinkRecord } from '../sink/record.ts';
import type { FetchedThing } from '../instances/things.ts';

export const THINGS_CONTRACT_VERSION = '1';
export const THING_EVENT_TYPES = {
  thing: 'com.microsoft.healthvault.thing-fetched.v1',
  unavailable: 'com.microsoft.healthvault.thing-unavailable.v1',
  error: 'com.microsoft.healthvault.thing-fetch-failed.v1',
} as const;
export type ThingRecordKind = keyof typeof THING_EVENT_TYPES;

/** What the stage knows of the event it enriches (from the events record it consumed). */
export interface EnrichEvent {
  /** the event's ce_id */
  readonly eventId: string;
  /** hv_instance_id: the instance whose key verified the notification */
  readonly instanceId: string;
  readonly subscriptionName: string;
  readonly personId: string;
  readonly recordId: string;
  readonly thingIds: readonly string[];
  /** when the gateway received the notification (RFC 3339, UTC), when the record says */
  readonly receivedAt?: string;
}

export type ThingOutcome =
  | { readonly kind: 'thing'; readonly thing: FetchedThing }
  | { readonly kind: 'unavailable'; readonly thingId: string }
  | { readonly kind: 'error'; readonly thingId: string; readonly hvStatus: number | null; readonly code: string; readonly message: string };

const thingIdOf = (o: ThingOutcome): string => (o.kind === 'thing' ? o.thing.thingId : o.thingId);

/**
 * ce_id = hash(event id, thing id, version stamp): a re-fetch after a restart of the same thing
 * version gets the same id (consumers deduplicate on it); a new version gets a new one. Records
 * without a version (unavailable, error) use their kind (and status) in its place.
 */
export function thingRecordId(eventId: string, o: ThingOutcome): string {
  const version = o.kind === 'thing' ? o.thing.versionStamp.toLowerCase() : o.kind === 'unavailable' ? 'unavailable' : `error:${o.hvStatus ?? o.code}`;
  return createHash('sha256').update(`${eventId}\n${thingIdOf(o).toLowerCase()}\n${version}`).digest('hex').slice(0, 32);
}

export function toThingRecord(e: EnrichEvent, o: ThingOutcome, topic: string, fetchedAt: Date): SinkRecord {
  const id = thingRecordId(e.eventId, o);
  const thingId = thingIdOf(o);
  const time = fetchedAt.toISOString();
  const base = {
    contractVersion: THINGS_CONTRACT_VERSION,
    id,
    kind: o.kind,
    eventId: e.eventId,
    instanceId: e.instanceId,
    subscriptionName: e.subscriptionName,
    personId: e.personId,
    recordId: e.recordId,
    thingId,
    fetchedAt: time,
  };
  const value =
    o.kind === 'thing'
      ? {
          ...base,
          versionStamp: o.thing.versionStamp,
          typeId: o.thing.typeId,
          typeName: o.thing.typeName ?? null,
          effectiveDate: o.thing.effectiveDate ?? null,
          state: o.thing.state,
          dataXml: o.thing.dataXml ?? null,
        }
      : o.kind === 'unavailable'
        ? base
        : { ...base, error: { hvStatus: o.hvStatus, code: o.code, message: o.message } };
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: id,
    ce_source: `/healthvault/instances/${encodeURIComponent(e.instanceId)}`,
    ce_type: THING_EVENT_TYPES[o.kind],
    ce_time: time,
    ce_subject: `records/${e.recordId}/things/${thingId}`,
    'content-type': 'application/json',
    hv_contract_version: THINGS_CONTRACT_VERSION,
    hv_instance_id: e.instanceId,
    hv_subscription_name: e.subscriptionName,
    hv_event_id: e.eventId,
    hv_thing_kind: o.kind,
  };
  if (o.kind === 'thing') {
    headers.hv_thing_type_id = o.thing.typeId;
    headers.hv_version_stamp = o.thing.versionStamp;
  }
  if (o.kind === 'error' && o.hvStatus !== null) headers.hv_status = String(o.hvStatus);
  return { topic, key: `${e.instanceId}:${e.recordId}:${thingId}`, value: Buffer.from(JSON.stringify(value)), headers };
}
