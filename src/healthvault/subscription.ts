// The `subscription` element (subscription.xsd, healthvault-protocol.md §1.2), shared by
// SubscribeToEvent, GetEventSubscriptions and UpdateEventSubscription. Children are unqualified
// and written in XSD sequence order, compact, as the .NET SDK serializer does [C].
import type { XmlElement } from './safe-xml.ts';
import { childrenNamed, optionalChild, requiredChild, requiredText, textOf, unexpected } from './xml-query.ts';
import { textElement } from './xml-escape.ts';
import {
  bytesFrom, decodeNotificationKey, invalid, isGuid, isHttpsUrl, isKeyVersionId, NOTIFICATION_KEY_BYTES, preview, requireGuid,
} from './validation.ts';

/** What a caller supplies to build a subscription. */
export interface EventSubscriptionSpec {
  /** Platform-assigned id: absent for SubscribeToEvent, required for UpdateEventSubscription. */
  readonly id?: string;
  /** 64-byte HMAC-SHA256 key for the notifications: raw bytes or base64 text. */
  readonly key: Uint8Array | string;
  readonly keyVersionId: string;
  /** HTTPS callback URL; must share the app's ActionURL root in production (§1.1). */
  readonly url: string;
  /** One entry per filter; each filter lists thing type ids (a change matching any filter fires). */
  readonly typeIds: readonly (readonly string[])[];
}

/** A subscription read from a document. */
export interface Subscription {
  readonly id: string | undefined;
  /** Whitespace-free base64 of `key`; undefined if the platform did not echo the key [I] (§1.4). */
  readonly keyBase64: string | undefined;
  readonly key: Buffer | undefined;
  readonly keyVersionId: string | undefined;
  readonly url: string;
  readonly typeIds: string[][];
}

/** A subscription whose shared key is known (request infos always carry it). */
export interface KeyedSubscription extends Subscription {
  readonly keyBase64: string;
  readonly key: Buffer;
  readonly keyVersionId: string;
}

/** Checks a spec and returns the key bytes. Throws HVG_ERR_VALIDATION naming the bad field. */
export function validateSubscriptionSpec(spec: EventSubscriptionSpec): Buffer {
  if (spec.id !== undefined) requireGuid(spec.id, 'subscription id');
  const key = typeof spec.key === 'string' ? decodeNotificationKey(spec.key) : bytesFrom(spec.key, 'key');
  if (key === undefined || key.length !== NOTIFICATION_KEY_BYTES) invalid(`notification key must be exactly ${NOTIFICATION_KEY_BYTES} bytes (base64 of 64 bytes)`);
  if (!isKeyVersionId(spec.keyVersionId)) invalid(`key version id must match ^[a-zA-Z0-9-]{1,50}$, got ${preview(spec.keyVersionId)}`);
  if (!isHttpsUrl(spec.url)) invalid(`subscription url must be an absolute https:// URL, got ${preview(spec.url)}`);
  if (spec.typeIds.length === 0) invalid('a subscription needs at least one filter');
  spec.typeIds.forEach((filter, i) => {
    if (filter.length === 0) invalid(`filter ${i + 1} lists no type id`);
    for (const typeId of filter) requireGuid(typeId, `filter ${i + 1} type id`);
  });
  return key;
}

/** `<subscription>…</subscription>`, compact. */
export function buildSubscriptionXml(spec: EventSubscriptionSpec): string {
  const key = validateSubscriptionSpec(spec);
  const id = spec.id === undefined ? '' : textElement('id', spec.id);
  const filters = spec.typeIds.map((f) => `<filter><type-ids>${f.map((id) => textElement('type-id', id)).join('')}</type-ids></filter>`).join('');
  return '<subscription><common>' + id +
    '<notification-authentication-info><hv-eventing-shared-key>' +
    `<notification-key>${key.toString('base64')}</notification-key>` +
    textElement('notification-key-version-id', spec.keyVersionId) +
    '</hv-eventing-shared-key></notification-authentication-info>' +
    `<notification-channel><http-notification-channel>${textElement('url', spec.url)}</http-notification-channel></notification-channel>` +
    `</common><record-item-changed-event><filters>${filters}</filters></record-item-changed-event></subscription>`;
}

/**
 * Reads a `subscription` element. `requireKey` = the shared key must be present (request infos);
 * GetEventSubscriptions may not echo it [I], so listings pass false. When present it must be valid.
 */
export function parseSubscriptionElement(el: XmlElement, requireKey: boolean): Subscription {
  const common = requiredChild(el, 'common');
  const idEl = optionalChild(common, 'id');
  const id = idEl === undefined ? undefined : textOf(idEl);
  if (idEl !== undefined && (id === undefined || !isGuid(id))) unexpected(idEl, `expected a GUID, got ${preview(id ?? '')}`);

  const authInfo = optionalChild(common, 'notification-authentication-info');
  let key: Buffer | undefined;
  let keyVersionId: string | undefined;
  if (authInfo !== undefined || requireKey) {
    const shared = requiredChild(authInfo ?? unexpected(common, 'missing <notification-authentication-info>'), 'hv-eventing-shared-key');
    const keyEl = optionalChild(shared, 'notification-key');
    if (keyEl !== undefined || requireKey) {
      const keyText = requiredText(shared, 'notification-key');
      key = decodeNotificationKey(keyText);
      // Never echo the key itself into an error message or log.
      if (key === undefined) unexpected(keyEl, `must be base64 of exactly ${NOTIFICATION_KEY_BYTES} bytes`);
    }
    keyVersionId = requiredText(shared, 'notification-key-version-id');
    if (!isKeyVersionId(keyVersionId)) unexpected(shared, `notification-key-version-id must match ^[a-zA-Z0-9-]{1,50}$, got ${preview(keyVersionId)}`);
  }

  const channel = requiredChild(requiredChild(common, 'notification-channel'), 'http-notification-channel');
  const url = requiredText(channel, 'url');
  if (!isHttpsUrl(url)) unexpected(requiredChild(channel, 'url'), `must be an absolute https:// URL, got ${preview(url)}`);

  const filtersEl = requiredChild(requiredChild(el, 'record-item-changed-event'), 'filters');
  const filters = childrenNamed(filtersEl, 'filter');
  if (filters.length === 0) unexpected(filtersEl, 'needs at least one <filter>');
  const typeIds = filters.map((filter) => {
    const typeIdsEl = requiredChild(filter, 'type-ids');
    const ids = childrenNamed(typeIdsEl, 'type-id').map((t) => {
      const value = textOf(t);
      if (!isGuid(value)) unexpected(t, `expected a GUID, got ${preview(value)}`);
      return value;
    });
    if (ids.length === 0) unexpected(typeIdsEl, 'needs at least one <type-id>');
    return ids;
  });
  return { id, key, keyBase64: key?.toString('base64'), keyVersionId, url, typeIds };
}

/** parseSubscriptionElement(el, true), typed as keyed. */
export function parseKeyedSubscriptionElement(el: XmlElement): KeyedSubscription {
  const sub = parseSubscriptionElement(el, true);
  if (sub.key === undefined || sub.keyBase64 === undefined || sub.keyVersionId === undefined) unexpected(el, 'missing the shared key');
  return { ...sub, key: sub.key, keyBase64: sub.keyBase64, keyVersionId: sub.keyVersionId };
}

