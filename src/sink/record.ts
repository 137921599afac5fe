// The Kafka record contract (version 1), documented in README.md "Kafka record contract".
// One record per <notification>; CloudEvents 1.0 in Kafka binary mode: ce_* headers carry the
// event attributes, the value is the JSON data, content-type says so.
import { hash } from 'node:crypto';

const RECORD_CONTRACT_VERSION = '1';
export const EVENT_TYPE = 'com.microsoft.healthvault.record-item-changed.v1';

/** One verified notification, tagged with the instance whose key verified it. */
export interface NotificationEvent {
  /** instance id the request was authenticated for (from the URL path + key, never the body) */
  readonly instanceId: string;
  /** the gateway's subscription name (from the URL path) */
  readonly subscriptionName: string;
  /** HealthVault subscription id of this notification (from the body, checked against the URL's subscription) */
  readonly subscriptionId: string;
  /** key version the request was signed with */
  readonly keyVersion: string;
  readonly personId: string;
  readonly recordId: string;
  readonly thingIds: readonly string[];
  /** gateway clock; notifications carry no time of their own (healthvault-protocol.md §2.2) */
  readonly receivedAt: Date;
}

export interface SinkRecord {
  /** the topic to write to; absent = the sink's events topic (KAFKA_TOPIC), the hot path */
  readonly topic?: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * ce_id is deterministic for a redelivery: HealthVault retries the same notification (same
 * instance, subscription, record and things) and a notification has no id or time of its own,
 * so the id is a hash of exactly those fields. Two distinct changes of the same things in the
 * same record also share it — harmless, since a notification only says "these things changed,
 * fetch them" and processing it twice or once gives the same result.
 */
export function eventId(e: Pick<NotificationEvent, 'instanceId' | 'subscriptionId' | 'recordId' | 'thingIds'>): string {
  // one string, one one-shot hash: no Hash object and no copy of the id list on the hot path
  const things = e.thingIds.map((t) => t.toLowerCase()).sort().join(',');
  return hash('sha256', `${e.instanceId}\n${e.subscriptionId.toLowerCase()}\n${e.recordId.toLowerCase()}\n${things}`, 'hex').slice(0, 32);
}

export function toRecord(e: NotificationEvent): SinkRecord {
  const time = e.receivedAt.toISOString();
  const id = eventId(e);
  const value = {
    contractVersion: RECORD_CONTRACT_VERSION,
    id,
    instanceId: e.instanceId,
    subscription: { name: e.subscriptionName, id: e.subscriptionId, keyVersion: e.keyVersion },
    personId: e.personId,
    recordId: e.recordId,
    thingIds: e.thingIds,
    receivedAt: time,
  };
  return {
    // per-record order within an instance: all changes of one record land in one partition
    key: `${e.instanceId}:${e.recordId}`,
    value: Buffer.from(JSON.stringify(value)),
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: `/healthvault/instances/${encodeURIComponent(e.instanceId)}`,
      ce_type: EVENT_TYPE,
      ce_time: time,
      ce_subject: `records/${e.recordId}`,
      'content-type': 'application/json',
      hv_contract_version: RECORD_CONTRACT_VERSION,
      hv_instance_id: e.instanceId,
      hv_subscription_name: e.subscriptionName,
      hv_subscription_id: e.subscriptionId,
      hv_key_version: e.keyVersion,
    },
  };
}

export const recordBytes = (r: SinkRecord): number => {
  let n = Buffer.byteLength(r.key) + r.value.length + 64;
  for (const [k, v] of Object.entries(r.headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
};
