// The four eventing methods, all method-version 1 and authenticated (healthvault-protocol.md
// §1.3–1.6): request infos (plain `<info>`, §7.14) and responses, both directions, so the gateway
// and the simulator share one codec.
import type { XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, elementOf, expectRoot, guidText, optionalChild, requiredChild, textOf, unexpected } from './xml-query.ts';
import type { XmlInput } from './xml-query.ts';
import { buildResponse, requiredInfo, successfulResponse } from './response-envelope.ts';
import type { ResponseInput } from './response-envelope.ts';
import { HV_METHODS, requestInfoNamespaces } from './methods.ts';
import { buildSubscriptionXml, parseKeyedSubscriptionElement, parseSubscriptionElement } from './subscription.ts';
import type { KeyedSubscription, Subscription, EventSubscriptionSpec } from './subscription.ts';
import { textElement } from './xml-escape.ts';
import { invalid, requireGuid } from './validation.ts';

/**
 * "An application can only register 25 subscriptions at a time. This number is subject to change"
 * [C, second-hand] (§1.1); beyond it the platform answers 133.
 */
export const SUBSCRIPTION_LIMIT = 25;

const SUBSCRIBE = HV_METHODS.SubscribeToEvent;
const LIST = HV_METHODS.GetEventSubscriptions;
const UPDATE = HV_METHODS.UpdateEventSubscription;
const UNSUBSCRIBE = HV_METHODS.UnsubscribeToEvent;

function infoRoot(input: XmlInput, method: string, limits?: XmlParseOptions) {
  return expectRoot(elementOf(input, limits), requestInfoNamespaces(method), 'info');
}

// ---- SubscribeToEvent (§1.3)

/** The id is assigned by the platform: sending one is refused (.NET SDK throws, python saw 134) [C]. */
export function buildSubscribeToEventInfo(spec: EventSubscriptionSpec): string {
  if (spec.id !== undefined) invalid('SubscribeToEvent must not carry a subscription id; the platform assigns it');
  return `<info>${buildSubscriptionXml(spec)}</info>`;
}

/**
 * Simulator side. Returns the id too if a client sent one, so the simulator can answer 134 as
 * the platform did [C] rather than failing the parse.
 */
export function parseSubscribeToEventInfo(input: XmlInput, limits?: XmlParseOptions): KeyedSubscription {
  return parseKeyedSubscriptionElement(requiredChild(infoRoot(input, SUBSCRIBE.name, limits), 'subscription'));
}

export function buildSubscribeToEventResponse(subscriptionId: string): string {
  const inner = textElement('subscription-id', requireGuid(subscriptionId, 'subscriptionId'));
  return buildResponse({ code: 0, info: { name: SUBSCRIBE.responseInfo, inner } });
}

/** The platform-assigned subscription id. Non-zero status → HvgError (see statusError). */
export function parseSubscribeToEventResponse(input: ResponseInput, limits?: XmlParseOptions): string {
  return guidText(requiredInfo(successfulResponse(input, SUBSCRIBE.responseInfo, limits), SUBSCRIBE.responseInfo), 'subscription-id');
}

// ---- GetEventSubscriptions (§1.4)

/** No parameters; the SDKs send an empty info [C]. */
export function buildGetEventSubscriptionsInfo(): string {
  return '<info/>';
}

/** Simulator side: the info carries no parameters; any content is ignored [I] (no schema, §1.4). */
export function parseGetEventSubscriptionsInfo(input: XmlInput, limits?: XmlParseOptions): void {
  infoRoot(input, LIST.name, limits);
}

/** Every subscription of the app in this instance; each must have its id. */
export function buildGetEventSubscriptionsResponse(subscriptions: readonly EventSubscriptionSpec[]): string {
  const items = subscriptions.map((s, i) => {
    if (s.id === undefined) invalid(`subscription ${i + 1} has no id; listed subscriptions always have one`);
    return buildSubscriptionXml(s);
  });
  return buildResponse({ code: 0, info: { name: LIST.responseInfo, inner: `<subscriptions>${items.join('')}</subscriptions>` } });
}

/**
 * The app's subscriptions in the instance that answered. Keys may be absent if the platform does
 * not echo them [I] (§1.4): compare id, URL, type ids and key version, not keys.
 */
export function parseGetEventSubscriptionsResponse(input: ResponseInput, limits?: XmlParseOptions): Subscription[] {
  const info = requiredInfo(successfulResponse(input, LIST.responseInfo, limits), LIST.responseInfo);
  const list = childrenNamed(requiredChild(info, 'subscriptions'), 'subscription').map((el) => {
    const sub = parseSubscriptionElement(el, false);
    if (sub.id === undefined) unexpected(el, 'listed subscription has no <common><id>');
    return sub;
  });
  return list;
}

/** A listing entry the strict reader refused, with whatever could be read of it. */
export interface UnreadableSubscription {
  /** 1-based position in the listing */
  readonly position: number;
  /** <common><id> text when there is one (not validated) */
  readonly id: string | undefined;
  /** the callback URL text when there is one (not validated) */
  readonly url: string | undefined;
  readonly reason: string;
}

/**
 * Tolerant variant for the reconciler: every entry is read strictly on its own, and an entry the
 * strict reader refuses (another application's http:// URL, a shape a future platform version
 * sends, …) is returned as unreadable instead of failing the whole listing. The envelope and the
 * list itself are still read strictly.
 */
export function parseGetEventSubscriptionsListing(input: ResponseInput, limits?: XmlParseOptions): { subscriptions: Subscription[]; unreadable: UnreadableSubscription[] } {
  const info = requiredInfo(successfulResponse(input, LIST.responseInfo, limits), LIST.responseInfo);
  const subscriptions: Subscription[] = [];
  const unreadable: UnreadableSubscription[] = [];
  childrenNamed(requiredChild(info, 'subscriptions'), 'subscription').forEach((el, i) => {
    try {
      const sub = parseSubscriptionElement(el, false);
      if (sub.id === undefined) unexpected(el, 'listed subscription has no <common><id>');
      subscriptions.push(sub);
    } catch (err) {
      const common = optionalChild(el, 'common');
      const idEl = common && optionalChild(common, 'id');
      const urlEl = common && optionalChild(common, 'notification-channel');
      const http = urlEl && optionalChild(urlEl, 'http-notification-channel');
      const url = http && optionalChild(http, 'url');
      // platform text, bounded: it ends up in reports and logs
      const cut = (v: string | undefined, n: number) => (v === undefined ? undefined : v.slice(0, n));
      unreadable.push({ position: i + 1, id: cut(idEl && textOf(idEl), 64), url: cut(url && textOf(url), 2048), reason: cut(err instanceof Error ? err.message : String(err), 300)! });
    }
  });
  return { subscriptions, unreadable };
}

// ---- UpdateEventSubscription (§1.5): the whole subscription again, identified by its id.

export function buildUpdateEventSubscriptionInfo(spec: EventSubscriptionSpec & { readonly id: string }): string {
  if (spec.id === undefined) invalid('UpdateEventSubscription needs the subscription id');
  return `<info>${buildSubscriptionXml(spec)}</info>`;
}

export function parseUpdateEventSubscriptionInfo(input: XmlInput, limits?: XmlParseOptions): KeyedSubscription & { readonly id: string } {
  const el = requiredChild(infoRoot(input, UPDATE.name, limits), 'subscription');
  const sub = parseKeyedSubscriptionElement(el);
  if (sub.id === undefined) unexpected(el, 'UpdateEventSubscription needs <common><id>');
  return { ...sub, id: sub.id };
}

// ---- UnsubscribeToEvent (§1.6)

export function buildUnsubscribeToEventInfo(subscriptionId: string): string {
  return `<info>${textElement('subscription-id', requireGuid(subscriptionId, 'subscriptionId'))}</info>`;
}

export function parseUnsubscribeToEventInfo(input: XmlInput, limits?: XmlParseOptions): string {
  return guidText(infoRoot(input, UNSUBSCRIBE.name, limits), 'subscription-id');
}

// ---- Status-only answers of Update and Unsubscribe [S][C][I] (fixture status-only-response.xml)

export function buildStatusOnlyResponse(): string {
  return buildResponse({ code: 0 });
}

/** Succeeds silently on status 0; any other status → HvgError (132 SUBSCRIPTION_NOT_FOUND, …). */
export function parseUpdateEventSubscriptionResponse(input: ResponseInput, limits?: XmlParseOptions): void {
  successfulResponse(input, UPDATE.responseInfo, limits);
}

export function parseUnsubscribeToEventResponse(input: ResponseInput, limits?: XmlParseOptions): void {
  successfulResponse(input, UNSUBSCRIBE.responseInfo, limits);
}
