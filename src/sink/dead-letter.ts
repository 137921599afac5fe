// The dead-letter record contract (version 1), documented in README.md "Dead-letter record
// contract". One record per authentic notification request that the gateway could not turn
// (wholly) into event records: the value is the raw body bytes exactly as received — the HMAC
// was computed over them, so a consumer holding the key can re-verify, and any re-encoding would
// destroy exactly what made the body unreadable. Everything the gateway knows about it is in
// headers, CloudEvents 1.0 binary-mode style (ce_*), plus hv_* headers like the events contract.
import { createHash } from 'node:crypto';
import type { SinkRecord } from './record.ts';

const DEAD_LETTER_CONTRACT_VERSION = '1';
export const DEAD_LETTER_TYPE = 'com.microsoft.healthvault.notification-dead-lettered.v1';

/**
 * Why a body (or some of its entries) did not become events. A closed set: it is a metric label.
 *  - unreadable: the strict reader refused the body (bad XML, an encoding declaration that does
 *    not match the bytes, a shape it does not know); no entry of it became an event
 *  - unknown-kind: an entry of a notification kind the gateway does not know
 *  - foreign-subscription: an entry whose subscription id is none of ours in this instance
 */
export type DeadLetterReason = 'unreadable' | 'unknown-kind' | 'foreign-subscription';

export interface DeadLetter {
  readonly topic: string;
  /** instance id proven by the key (path + HMAC), never from the body */
  readonly instanceId: string;
  /** the gateway's subscription name of the URL the body was posted to */
  readonly subscriptionName: string;
  /** the subscription id of the Authorization header (lower-case): this URL's subscription */
  readonly subscriptionId: string;
  readonly keyVersion: string;
  /** distinct reasons, in the order met */
  readonly reasons: readonly DeadLetterReason[];
  /** 1-based positions of the entries that did not become events; empty for an unreadable body (none did) */
  readonly entries: readonly number[];
  /** the reader's message for an unreadable body (bounded), '' otherwise */
  readonly detail: string;
  readonly body: Buffer;
  readonly receivedAt: Date;
}

const MAX_DETAIL = 500;
const MAX_ENTRIES = 100;

/** Header values must stay printable and bounded: the reader's message may quote body bytes. */
const printable = (s: string, max: number): string => {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
};

export function toDeadLetterRecord(d: DeadLetter): SinkRecord {
  // deterministic for a redelivery of the same body (a lost 200 makes the platform send it again)
  const id = createHash('sha256').update(`${d.instanceId}\n${d.subscriptionId}\n`).update(d.body).digest('hex').slice(0, 32);
  const entries = d.entries.length > MAX_ENTRIES ? `${d.entries.slice(0, MAX_ENTRIES).join(',')},...` : d.entries.join(',');
  return {
    topic: d.topic,
    // one subscription's dead letters of one instance stay in order
    key: `${d.instanceId}:${d.subscriptionId}`,
    value: d.body,
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: `/healthvault/instances/${encodeURIComponent(d.instanceId)}`,
      ce_type: DEAD_LETTER_TYPE,
      ce_time: d.receivedAt.toISOString(),
      ce_subject: `subscriptions/${d.subscriptionId}`,
      // the bytes as received: the gateway could not read them, so it claims no type or charset
      'content-type': 'application/octet-stream',
      hv_contract_version: DEAD_LETTER_CONTRACT_VERSION,
      hv_instance_id: d.instanceId,
      hv_subscription_name: d.subscriptionName,
      hv_subscription_id: d.subscriptionId,
      hv_key_version: d.keyVersion,
      hv_dead_letter_reason: d.reasons.join(','),
      hv_dead_letter_entries: entries,
      ...(d.detail === '' ? {} : { hv_dead_letter_detail: printable(d.detail, MAX_DETAIL) }),
    },
  };
}
