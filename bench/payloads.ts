// Bench payloads: HealthVault-notification-like XML bodies of an exact byte size (1 KB, 2 KB),
// each carrying ONE <notification> (so one Kafka record per request, as the gateway writes it),
// with distinct record and thing ids per body so keys spread over partitions.
//
// Every body is signed the way an instance signs (HMAC-SHA256 over the raw body with the
// subscription's 64-byte key, base64, in `Authorization: HVEventingSharedKey sub:ver:mac`),
// with the fixture key of test/fixtures/healthvault/README.md. H and B do not check it; the
// gateway scenario (G) passes its own header builder, since its keys are derived from its config.
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { toRecord, type NotificationEvent, type SinkRecord } from '../src/sink/record.ts';

export const INSTANCE_ID = '1';
export const SUBSCRIPTION_NAME = 'bench';
export const SUBSCRIPTION_ID = '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218';
export const KEY_VERSION = 'gw-2019-01-a';
/** subscription A's fixture key (test/fixtures/healthvault/README.md); test data, protects nothing */
export const FIXTURE_KEY = Buffer.from('6xhf2V6CEymlFnkftHR/KEYRZva7DG2q1pJ4BAkFFF/ULLtQQF2fwjQf1Ta+e7Yy83qC7Cg3yn1N3H6pFHOAyA==', 'base64');

/** Distinct bodies per size; load generators cycle through them. */
export const POOL_SIZE = 64;

export interface Payload {
  /** exact wire bytes */
  readonly body: Buffer;
  /** the notification it carries, as the gateway would tag it after verifying */
  readonly event: NotificationEvent;
}

/** A deterministic UUID-shaped id (36 chars) from a seed. */
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * One notification body of exactly `size` bytes (whitespace padding between elements).
 * `subscriptionId` must be the HealthVault subscription id the receiving URL stands for when the
 * gateway checks it (G); any GUID keeps the size.
 */
export function notificationBody(size: number, index: number, subscriptionId = SUBSCRIPTION_ID): Payload {
  const personId = uuidOf(`person|${index % 7}`);
  const recordId = uuidOf(`record|${size}|${index}`);
  const head =
    `<wc:notifications xmlns:wc="urn:com.microsoft.wc.notification"><notification><common><subscription-id>${subscriptionId}</subscription-id></common>` +
    `<record-change-notification><person-id>${personId}</person-id><record-id>${recordId}</record-id><things>`;
  const tail = '</things></record-change-notification></notification>';
  const close = '</wc:notifications>';
  const thingIds: string[] = [];
  let things = '';
  for (;;) {
    const id = uuidOf(`thing|${size}|${index}|${thingIds.length}`);
    const t = `<thing><thing-id>${id}</thing-id></thing>`;
    if (head.length + things.length + t.length + tail.length + close.length > size) break;
    things += t;
    thingIds.push(id);
  }
  if (thingIds.length === 0) throw new Error(`body size ${size} is too small for one notification`);
  const pad = size - (head.length + things.length + tail.length + close.length);
  const xml = head + things + tail + (pad > 0 ? '\n' + ' '.repeat(pad - 1) : '') + close;
  const body = Buffer.from(xml, 'utf8');
  if (body.length !== size) throw new Error(`body is ${body.length} bytes, wanted ${size}`);
  const event: NotificationEvent = {
    instanceId: INSTANCE_ID,
    subscriptionName: SUBSCRIPTION_NAME,
    subscriptionId,
    keyVersion: KEY_VERSION,
    personId,
    recordId,
    thingIds,
    receivedAt: new Date(0),
  };
  return { body, event };
}

export function payloadPool(size: number, n = POOL_SIZE, subscriptionId = SUBSCRIPTION_ID): Payload[] {
  return Array.from({ length: n }, (_, i) => notificationBody(size, i, subscriptionId));
}

/** The notification Authorization header value, signed with `key` (64 raw bytes or a KeyObject). */
export function signatureHeader(body: Buffer, key: Buffer | KeyObject = FIXTURE_KEY, subscriptionId = SUBSCRIPTION_ID, keyVersion = KEY_VERSION): string {
  return `HVEventingSharedKey ${subscriptionId}:${keyVersion}:${createHmac('sha256', key).update(body).digest('base64')}`;
}

/** Headers an instance sends with a notification (content type as in the fixtures; INFERRED there). */
export function notificationHeaders(body: Buffer): Record<string, string> {
  return { 'content-type': 'text/xml; charset=utf-8', authorization: signatureHeader(body) };
}

/**
 * The same notification for the Strimzi bridge: `application/vnd.kafka.text.v2+json`, the XML as
 * the record value (a JSON string) and the gateway's key, so Kafka gets a record of the same size
 * and partitioning as the XML body.
 */
export function bridgeBody(p: Payload): Buffer {
  return Buffer.from(JSON.stringify({ records: [{ key: `${p.event.instanceId}:${p.event.recordId}`, value: p.body.toString('utf8') }] }));
}

export const BRIDGE_CONTENT_TYPE = 'application/vnd.kafka.text.v2+json';

/** The record the gateway's sink publishes for this body (record contract v1, README). */
export function sinkRecordOf(p: Payload): SinkRecord {
  return toRecord({ ...p.event, receivedAt: new Date() });
}

/** Bytes of a record as Kafka stores them, roughly: key + value + header names and values. */
export function recordSize(r: SinkRecord): number {
  let n = Buffer.byteLength(r.key) + r.value.length;
  for (const [k, v] of Object.entries(r.headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}
