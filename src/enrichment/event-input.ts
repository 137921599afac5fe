// Reading an events record (the Kafka record contract, README) back into what enrichment needs.
// The instance is hv_instance_id — the tag the receiver set from the key that verified the
// notification; a value that names another instance is not trusted and not enriched.
import type { KafkaMessage } from 'kafkajs';
import { isGuid } from '../healthvault/validation.ts';
import type { EnrichEvent } from './thing-record.ts';

const MAX_THINGS = 1000;

const header = (m: KafkaMessage, name: string): string | undefined => {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/** The event of a record, or a reason it cannot be enriched (a record of another contract, damaged, …). */
export function readEvent(m: KafkaMessage): { event: EnrichEvent } | { skip: string } {
  const instanceId = header(m, 'hv_instance_id');
  const eventId = header(m, 'ce_id');
  if (instanceId === undefined || eventId === undefined || m.value === null) return { skip: 'not an events record (no hv_instance_id/ce_id header or no value)' };
  let v: unknown;
  try {
    v = JSON.parse(m.value.toString('utf8'));
  } catch {
    return { skip: 'value is not JSON' };
  }
  const o = v as { instanceId?: unknown; subscription?: { name?: unknown }; personId?: unknown; recordId?: unknown; thingIds?: unknown; receivedAt?: unknown };
  if (o === null || typeof o !== 'object') return { skip: 'value is not an object' };
  if (o.instanceId !== instanceId) return { skip: 'value names another instance than hv_instance_id' };
  const name = o.subscription?.name ?? header(m, 'hv_subscription_name');
  if (typeof name !== 'string' || typeof o.personId !== 'string' || typeof o.recordId !== 'string' || !isGuid(o.personId) || !isGuid(o.recordId)) return { skip: 'subscription, person or record missing or malformed' };
  if (!Array.isArray(o.thingIds) || o.thingIds.length > MAX_THINGS || !o.thingIds.every((t): t is string => typeof t === 'string' && isGuid(t))) return { skip: 'thingIds missing or malformed' };
  const event: EnrichEvent = { eventId: eventId.slice(0, 64), instanceId, subscriptionName: name, personId: o.personId.toLowerCase(), recordId: o.recordId.toLowerCase(), thingIds: o.thingIds.map((t) => t.toLowerCase()) };
  return { event: typeof o.receivedAt === 'string' ? { ...event, receivedAt: o.receivedAt } : event };
}
