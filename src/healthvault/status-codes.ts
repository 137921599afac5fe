// HealthVault status codes (healthvault-protocol.md §4.5 table, §1.7) and what a client can do
// about each one. Application errors arrive as HTTP 200 with a non-zero <code> (§4.1).
import { HvgError } from '../errors.ts';

/**
 * transient: resend later (with a fresh msg-time) may succeed; reauthenticate: get a new session
 * token (CAST, §4.4) and resend once, as the SDKs do on 65; none: fix the request or configuration.
 */
export type StatusRetry = 'none' | 'transient' | 'reauthenticate';

export interface StatusCodeInfo {
  readonly code: number;
  readonly name: string;
  readonly description: string;
  readonly retry: StatusRetry;
}

const TABLE: readonly (readonly [number, string, string, StatusRetry?])[] = [
  [0, 'OK', 'success'],
  [1, 'FAILED', 'generic or internal error', 'transient'],
  [2, 'BAD_HTTP', 'HTTP protocol problem'],
  [3, 'INVALID_XML', 'request XML unparseable or non-conformant'],
  [4, 'BAD_SIG', 'signature validation failed'],
  [5, 'BAD_METHOD', 'no such method'],
  [6, 'INVALID_APP', 'app unknown, invalid or inactive, or calling IP invalid'],
  [7, 'CREDENTIAL_TOKEN_EXPIRED', 'credential token expired', 'reauthenticate'],
  // [I] 8 is also what a platform answers for a token it no longer knows (restart, failover):
  // a new session is the only remedy, as for 65.
  [8, 'INVALID_TOKEN', 'auth token malformed', 'reauthenticate'],
  [9, 'INVALID_PERSON', 'person missing or inactive'],
  [10, 'INVALID_RECORD', 'record id does not exist'],
  [11, 'ACCESS_DENIED', 'insufficient rights (likely also: Eventing method group not enabled [I])'],
  // GetThings (§4.6.7): 13 for a malformed thing id and 15/16 for a bad group/format are [I].
  [13, 'INVALID_THING', 'invalid thing identifier'],
  [15, 'INVALID_FILTER', 'missing or invalid GetThings filter'],
  [16, 'INVALID_FORMAT', 'missing or invalid GetThings format specifier'],
  [17, 'MISSING_SHARED_SECRET', 'credential without shared secret'],
  // [I] the person never authorised the app: an alternative to 11 for offline reads (§4.6.7)
  [18, 'INVALID_APPAUTH', 'authorized-applications entry missing'],
  [39, 'REQUEST_TOO_LONG', 'request too large'],
  [49, 'REQUEST_TIMED_OUT', 'request older than its msg-ttl', 'transient'],
  [53, 'TOO_MANY_GROUPS_IN_QUERY', 'GetThings query has too many request groups'],
  [63, 'INVALID_PUBLIC_KEY', 'public key invalid'],
  [65, 'AUTHENTICATED_SESSION_TOKEN_EXPIRED', 'session token expired, get a new one', 'reauthenticate'],
  [66, 'INVALID_CREDENTIAL_KEY', 'credential key not found'],
  [70, 'BAD_CERT', 'certificate validation failed'],
  [71, 'RESPONSE_TOO_LONG', 'the response exceeded the maximum allowed size'],
  [105, 'INVALID_SIGNATURE_ALGORITHM', 'signature algorithm invalid'],
  // [I] the likely answer to an over-long id list (§4.6.4): split the batch
  [124, 'TOO_MANY_THINGS_SPECIFIED', 'the maximum number of things specified has been exceeded'],
  [132, 'SUBSCRIPTION_NOT_FOUND', 'subscription not found'],
  [133, 'SUBSCRIPTION_LIMIT_EXCEEDED', 'too many subscriptions for the application'],
  [134, 'SUBSCRIPTION_INVALID', 'subscription contains invalid data'],
  // [I] maintenance is temporary by nature; the sources do not say how clients should react.
  [152, 'MAINTENANCE_MODE_ACCESS_DENIED', 'platform read-only for maintenance', 'transient'],
  [153, 'INVALID_INSTANCE_ID', 'instance id not valid'],
];

export const STATUS_CODES: ReadonlyMap<number, StatusCodeInfo> = new Map(
  TABLE.map(([code, name, description, retry]) => [code, Object.freeze({ code, name, description, retry: retry ?? 'none' })]),
);

/** Named constants (no enums: erasable syntax only). */
export const HV_STATUS = Object.freeze(Object.fromEntries(TABLE.map(([code, name]) => [name, code]))) as Readonly<Record<string, number>>;

export const HV_STATUS_FAILED = 1;
export const HV_STATUS_INVALID_XML = 3;
export const HV_STATUS_BAD_SIG = 4;
export const HV_STATUS_INVALID_PERSON = 9;
export const HV_STATUS_INVALID_RECORD = 10;
export const HV_STATUS_ACCESS_DENIED = 11;
export const HV_STATUS_INVALID_APPAUTH = 18;
export const HV_STATUS_REQUEST_TIMED_OUT = 49;
export const HV_STATUS_RESPONSE_TOO_LONG = 71;
export const HV_STATUS_TOO_MANY_THINGS = 124;
export const HV_STATUS_SESSION_EXPIRED = 65;
export const HV_STATUS_SUBSCRIPTION_NOT_FOUND = 132;
export const HV_STATUS_SUBSCRIPTION_LIMIT_EXCEEDED = 133;
export const HV_STATUS_SUBSCRIPTION_INVALID = 134;

/** Table entry; unknown codes get a synthetic name and no retry advice. */
export function statusInfo(code: number): StatusCodeInfo {
  return STATUS_CODES.get(code) ?? { code, name: `UNKNOWN_${code}`, description: 'not in the codec status table', retry: 'none' };
}

/** The HvgError for a non-zero status, so callers can branch on err.code / err.retriable. */
export function statusError(code: number, message?: string): HvgError {
  const info = statusInfo(code);
  const text = `HealthVault status ${code} ${info.name}${message ? `: ${message}` : ''}`;
  const details = { hvStatus: code, hvStatusName: info.name, hvRetry: info.retry, ...(message ? { hvMessage: message } : {}) };
  if (info.retry === 'reauthenticate') return new HvgError('HVG_ERR_HV_SESSION_EXPIRED', text, { details });
  if (info.retry === 'transient') return new HvgError('HVG_ERR_HV_TRANSIENT', text, { details });
  return new HvgError('HVG_ERR_HV_STATUS', text, { details });
}
