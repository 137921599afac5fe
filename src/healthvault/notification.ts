// Notification POST bodies (notification.xsd, healthvault-protocol.md §2.2). The receiver path is
// hot: parse only after the HMAC over the raw bytes verified (notification-auth.ts, STYLE §8).
import { parseXml } from './safe-xml.ts';
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, expectRoot, guidText, guidValue, optionalChild, requiredChild, unexpected } from './xml-query.ts';
import { NOTIFICATION_NAMESPACE } from './methods.ts';
import { invalid, requireGuid } from './validation.ts';

export interface RecordChangeNotification {
  /** The subscription that produced it (common/subscription-id). */
  readonly subscriptionId: string;
  /** Person whose thing changed (usable for offline access). */
  readonly personId: string;
  readonly recordId: string;
  /** Changed (created, updated or deleted) things; the body never says which (§2.2). */
  readonly thingIds: readonly string[];
}

/** A notification of a kind this codec does not know: receivers must ignore unknown kinds (§2.2). */
export interface SkippedNotification {
  /** 1-based position in the body. */
  readonly position: number;
  readonly subscriptionId: string;
  /** Local name of the unknown kind element, or '' if there is none. */
  readonly kind: string;
}

export interface NotificationBody {
  readonly notifications: RecordChangeNotification[];
  readonly skipped: SkippedNotification[];
}

/**
 * Tighter than the generic defaults: a notification body nests 6 deep and a batch of them is
 * small; 1 MiB leaves room for large batches [I] (sizes are undocumented, §2.1).
 */
const NOTIFICATION_XML_LIMITS: XmlParseOptions = Object.freeze({ maxDepth: 16, maxAttributeLength: 1024, maxAttributes: 16 });

/**
 * Parses a body: root matched by (urn:com.microsoft.wc.notification, notifications) whatever the
 * prefix; 1..n `notification`; GUIDs validated. Throws HvgError (XML codes) on anything wrong.
 */
export function parseNotificationBody(body: string | Uint8Array, options: XmlParseOptions = {}): NotificationBody {
  const root = expectRoot(parseXml(body, { ...NOTIFICATION_XML_LIMITS, ...options }), NOTIFICATION_NAMESPACE, 'notifications');
  const items = childrenNamed(root, 'notification');
  if (items.length === 0) unexpected(root, 'no <notification>');
  const notifications: RecordChangeNotification[] = [];
  const skipped: SkippedNotification[] = [];
  items.forEach((item, i) => {
    const subscriptionId = guidText(requiredChild(item, 'common'), 'subscription-id');
    const change = optionalChild(item, 'record-change-notification');
    if (change === undefined) {
      const kind = item.children.find((c) => c.local !== 'common')?.local ?? '';
      skipped.push({ position: i + 1, subscriptionId, kind });
      return;
    }
    notifications.push({
      subscriptionId, personId: guidText(change, 'person-id'), recordId: guidText(change, 'record-id'), thingIds: thingIdsOf(change),
    });
  });
  return { notifications, skipped };
}

/**
 * Every client reads things/thing/thing-id (thing repeated); the XSD's `Thing` type, a bare
 * things/thing-id, is a schema defect we also accept [I] (§2.2, §7.4).
 */
function thingIdsOf(change: XmlElement): string[] {
  const things = requiredChild(change, 'things');
  const ids: string[] = [];
  for (const child of things.children) {
    if (child.local === 'thing') ids.push(guidText(child, 'thing-id'));
    else if (child.local === 'thing-id') ids.push(guidValue(child));
  }
  if (ids.length === 0) unexpected(things, 'no <thing>/<thing-id>');
  return ids;
}

/** Compact body with the `wc` prefix and things/thing/thing-id, like fixture notification-one.xml. */
export function buildNotificationBody(notifications: readonly RecordChangeNotification[]): string {
  if (notifications.length === 0) invalid('a notification body needs at least one notification');
  let xml = `<wc:notifications xmlns:wc="${NOTIFICATION_NAMESPACE}">`;
  for (const n of notifications) {
    if (n.thingIds.length === 0) invalid('a record change notification needs at least one thing id');
    xml += `<notification><common><subscription-id>${requireGuid(n.subscriptionId, 'subscriptionId')}</subscription-id></common>` +
      `<record-change-notification><person-id>${requireGuid(n.personId, 'personId')}</person-id>` +
      `<record-id>${requireGuid(n.recordId, 'recordId')}</record-id><things>` +
      n.thingIds.map((id) => `<thing><thing-id>${requireGuid(id, 'thingId')}</thing-id></thing>`).join('') +
      '</things></record-change-notification></notification>';
  }
  return `${xml}</wc:notifications>`;
}
