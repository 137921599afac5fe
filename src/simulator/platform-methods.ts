// The platform methods one instance answers, on top of the codec (healthvault-protocol.md §1.3–1.6
// eventing, §3.2 GetServiceDefinition v2, §3.3 SelectInstance, §4.4 CAST v2, §4.6 GetThings v3).
import {
  buildResponse, buildSubscriptionXml, buildGetServiceDefinitionResponse, buildSelectInstanceResponse, buildStatusOnlyResponse,
  buildSubscribeToEventResponse, HV_METHODS, parseGetEventSubscriptionsInfo, parseGetServiceDefinitionInfo, parseSelectInstanceInfo,
  parseSubscribeToEventInfo, parseUnsubscribeToEventInfo, parseUpdateEventSubscriptionInfo,
} from '../healthvault/index.ts';
import type { KeyedSubscription, MethodSpec } from '../healthvault/index.ts';
import type { MethodGroup, RegisteredApp } from './sim-config.ts';
import { handleCast } from './cast.ts';
import { handleGetThings } from './platform-things.ts';
import { fail, parseOr, S } from './platform-context.ts';
import type { MethodHandler, PlatformContext } from './platform-context.ts';
import { platformNormalisedUrl } from './quirks.ts';
import { subscriptionSpec } from './subscription-store.ts';

export interface PlatformMethod {
  readonly spec: MethodSpec;
  /** Method group the app must be granted (ACC Methods tab, §1.1); undefined = none needed. */
  readonly group: MethodGroup | undefined;
  readonly handle: MethodHandler;
}

/**
 * URL rule (§1.1): every subscription URL must share the ActionURL root; the developer
 * environment (PPE) does not enforce it, hence the switch. https is already checked by the codec.
 */
function checkUrl(ctx: PlatformContext, app: RegisteredApp, url: string): void {
  if (!ctx.config.enforceActionUrlRoot) return;
  const u = new URL(url);
  if (!`${u.origin}${u.pathname}`.startsWith(app.actionUrlRoot)) {
    fail(S.SUBSCRIPTION_INVALID, `subscription url must begin with the application's ActionURL root ${app.actionUrlRoot}`);
  }
}

/** What is stored: the URL as sent, or normalised when the instance behaves that way (quirk normaliseUrls). */
function fields(ctx: PlatformContext, sub: KeyedSubscription) {
  const url = ctx.quirks.normaliseUrls ? platformNormalisedUrl(sub.url) : sub.url;
  return { key: sub.key, keyVersionId: sub.keyVersionId, url, typeIds: sub.typeIds };
}

const subscribe: MethodHandler = (ctx, request, { app }) => {
  // [I] A subscription the codec refuses (bad key length, key version, non-https URL, missing
  // filters, …) is "invalid data": 134, as the schema lists for SubscribeToEvent (§1.3).
  const sub = parseOr(S.SUBSCRIPTION_INVALID, () => parseSubscribeToEventInfo(request.info));
  // Python-healthvault saw a supplied id rejected as invalid (134) [C] (§1.3).
  if (sub.id !== undefined) fail(S.SUBSCRIPTION_INVALID, 'common/id must not be sent: the platform assigns the subscription id');
  const f = fields(ctx, sub);
  checkUrl(ctx, app, f.url);
  if (ctx.subscriptions.countForApp(app.appId) + ctx.oddSubscriptions().length >= ctx.config.subscriptionLimit) {
    fail(S.SUBSCRIPTION_LIMIT_EXCEEDED, `the application already has ${ctx.config.subscriptionLimit} subscriptions in instance ${ctx.instanceId}`);
  }
  return buildSubscribeToEventResponse(ctx.subscriptions.create(app.appId, f).id);
};

const list: MethodHandler = (ctx, request, { app }) => {
  parseOr(S.INVALID_XML, () => parseGetEventSubscriptionsInfo(request.info));
  // All of the calling app's subscriptions in this instance (§1.4), keys echoed [I], then any odd
  // ones the instance holds (quirk oddForeignSubscriptions), written raw: the codec would refuse them.
  const items = ctx.subscriptions.listForApp(app.appId).map((s) => buildSubscriptionXml(subscriptionSpec(s)));
  return buildResponse({ code: 0, info: { name: HV_METHODS.GetEventSubscriptions.responseInfo, inner: `<subscriptions>${[...items, ...ctx.oddSubscriptions()].join('')}</subscriptions>` } });
};

const update: MethodHandler = (ctx, request, { app }) => {
  const sub = parseOr(S.SUBSCRIPTION_INVALID, () => parseUpdateEventSubscriptionInfo(request.info));
  const existing = ctx.subscriptions.get(sub.id);
  // Another app's subscription is as invisible as an unknown one [I].
  if (existing === undefined || existing.appId !== app.appId) fail(S.SUBSCRIPTION_NOT_FOUND, `subscription ${sub.id} not found`);
  const f = fields(ctx, sub);
  checkUrl(ctx, app, f.url);
  ctx.subscriptions.replace(existing, f);
  return buildStatusOnlyResponse();
};

const unsubscribe: MethodHandler = (ctx, request, { app }) => {
  // [I] A missing or malformed subscription-id is a document problem (3), not a lookup miss.
  const id = parseOr(S.INVALID_XML, () => parseUnsubscribeToEventInfo(request.info));
  const existing = ctx.subscriptions.get(id);
  if (existing === undefined || existing.appId !== app.appId) fail(S.SUBSCRIPTION_NOT_FOUND, `subscription ${id} not found`);
  ctx.subscriptions.delete(existing.id);
  return buildStatusOnlyResponse();
};

const serviceDefinition: MethodHandler = (ctx, request) => {
  const params = parseOr(S.INVALID_XML, () => parseGetServiceDefinitionInfo(request.info));
  if (!ctx.topology.modifiedSince(params.updatedDate)) return buildGetServiceDefinitionResponse(null);
  // [I] Only the topology section is simulated: it (with updated-date) is returned whatever
  // response-sections asked for; platform, shell, xml-method and meaningful-use are never sent.
  return buildGetServiceDefinitionResponse({
    currentInstanceId: ctx.instanceId, instances: ctx.topology.instances, updatedDate: ctx.topology.updatedAt,
  });
};

const selectInstance: MethodHandler = (ctx, request) => {
  const location = parseOr(S.INVALID_XML, () => parseSelectInstanceInfo(request.info));
  // Country codes compared case-insensitively; state-province is ignored [I].
  const id = ctx.config.countryInstances.get(location.country.toUpperCase());
  return buildSelectInstanceResponse(id === undefined ? undefined : ctx.topology.get(id));
};

export const PLATFORM_METHODS: ReadonlyMap<string, PlatformMethod> = new Map([
  [HV_METHODS.CreateAuthenticatedSessionToken.name, { spec: HV_METHODS.CreateAuthenticatedSessionToken, group: undefined, handle: handleCast }],
  [HV_METHODS.GetServiceDefinition.name, { spec: HV_METHODS.GetServiceDefinition, group: undefined, handle: serviceDefinition }],
  // [I] Whether SelectInstance needs a method group is unknown; it needs none here.
  [HV_METHODS.SelectInstance.name, { spec: HV_METHODS.SelectInstance, group: undefined, handle: selectInstance }],
  [HV_METHODS.SubscribeToEvent.name, { spec: HV_METHODS.SubscribeToEvent, group: 'eventing', handle: subscribe }],
  [HV_METHODS.GetEventSubscriptions.name, { spec: HV_METHODS.GetEventSubscriptions, group: 'eventing', handle: list }],
  [HV_METHODS.UpdateEventSubscription.name, { spec: HV_METHODS.UpdateEventSubscription, group: 'eventing', handle: update }],
  [HV_METHODS.UnsubscribeToEvent.name, { spec: HV_METHODS.UnsubscribeToEvent, group: 'eventing', handle: unsubscribe }],
  // Data access needs no method group here; the person's offline authorisation decides (§4.6.1) [I].
  [HV_METHODS.GetThings.name, { spec: HV_METHODS.GetThings, group: undefined, handle: handleGetThings }],
] satisfies [string, PlatformMethod][]);
