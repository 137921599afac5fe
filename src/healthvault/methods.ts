// The platform methods this codec speaks, their versions, whether they are anonymous and the
// schema name of their response info (healthvault-protocol.md §1.3–1.6, §3.2, §3.3, §4.3–4.5).

export interface MethodSpec {
  readonly name: string;
  readonly version: number;
  /** Anonymous methods carry header/app-id and no auth or info-hash (§4.3). */
  readonly anonymous: boolean;
  /** `<Name>` in urn:com.microsoft.wc.methods.response.<Name>; undefined = status-only answer. */
  readonly responseInfo: string | undefined;
}

export const HV_METHODS = {
  SubscribeToEvent: { name: 'SubscribeToEvent', version: 1, anonymous: false, responseInfo: 'SubscribeToEvent' },
  GetEventSubscriptions: { name: 'GetEventSubscriptions', version: 1, anonymous: false, responseInfo: 'GetEventSubscriptions' },
  // No response schema is published for these two; status only [S][C][I] (§1.5, §1.6).
  UpdateEventSubscription: { name: 'UpdateEventSubscription', version: 1, anonymous: false, responseInfo: undefined },
  UnsubscribeToEvent: { name: 'UnsubscribeToEvent', version: 1, anonymous: false, responseInfo: undefined },
  GetServiceDefinition: { name: 'GetServiceDefinition', version: 2, anonymous: true, responseInfo: 'GetServiceDefinition2' },
  // Sent over an app session by the SDKs; anonymous use is unconfirmed (§3.3, §7.15).
  SelectInstance: { name: 'SelectInstance', version: 1, anonymous: false, responseInfo: 'SelectInstance' },
  // Offline read of a person's things over the app session (§4.6); python-healthvault's v1 differs (§4.6.1).
  GetThings: { name: 'GetThings', version: 3, anonymous: false, responseInfo: 'GetThings3' },
  CreateAuthenticatedSessionToken: {
    name: 'CreateAuthenticatedSessionToken', version: 2, anonymous: true, responseInfo: 'CreateAuthenticatedSessionToken2',
  },
} as const satisfies Record<string, MethodSpec>;

export type HvMethodName = keyof typeof HV_METHODS;

export const REQUEST_NAMESPACE = 'urn:com.microsoft.wc.request';
/** PHP classes generated from response.xsd qualify the root; every SDK sample leaves it plain (§7.13). */
export const RESPONSE_NAMESPACE = 'urn:com.microsoft.wc.response';
export const RESPONSE_INFO_NAMESPACE_PREFIX = 'urn:com.microsoft.wc.methods.response.';
export const NOTIFICATION_NAMESPACE = 'urn:com.microsoft.wc.notification';

/** Namespace of a response `wc:info` (§4.5). */
export function responseInfoNamespace(schemaName: string): string {
  return RESPONSE_INFO_NAMESPACE_PREFIX + schemaName;
}

/**
 * Namespaces accepted for a request `<info>` root: the SDKs send it plain, each method XSD declares
 * a method namespace; match by local name and accept both (§7.14).
 */
export function requestInfoNamespaces(methodName: string): readonly string[] {
  return ['', `urn:com.microsoft.wc.methods.${methodName}`];
}
