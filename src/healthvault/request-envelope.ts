// The platform request envelope, wildcat.ashx (healthvault-protocol.md §4.2, §4.3).
// Built compact with no declaration, like the SDK writers (§4.1). The info-hash covers the exact
// `<info>…</info>` string and the auth HMAC the exact `<header>…</header>` string (which already
// holds the info-hash); `auth` precedes `header` (XSD sequence, §4.2).
import { rawXml } from './safe-xml.ts';
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { elementOf, expectRoot, integerText, optionalChild, optionalText, requiredChild, requiredText, textOf, unexpected } from './xml-query.ts';
import { computeHash, computeHmac, constantTimeEqual, hashAlgorithmOf, hmacAlgorithmOf } from './digest.ts';
import type { HashAlgorithm, HmacAlgorithm } from './digest.ts';
import { REQUEST_NAMESPACE } from './methods.ts';
import { textElement } from './xml-escape.ts';
import { bytesFrom, dateTimeText, decodeBase64Strict, invalid, isDateTime, isGuid, preview, requireGuid } from './validation.ts';

/** .NET SDK default request time-to-live, seconds (§4.2, §5). */
const DEFAULT_MSG_TTL = 1800;

export interface RequestHeaderOptions {
  readonly method: string;
  readonly methodVersion: number;
  readonly targetPersonId?: string;
  readonly recordId?: string;
  readonly language?: string;
  readonly country?: string;
  /** Newer schema; the .NET SDKs send it instead of language/country (§7.9). */
  readonly cultureCode?: string;
  readonly finalXsl?: string;
  /** When the message was built; a Date is written as ISO-8601 UTC with milliseconds. */
  readonly msgTime: Date | string;
  readonly msgTtl?: number;
  /** Client version string (docs example "foo v1.0"). */
  readonly version: string;
  /** The complete `<info>…</info>` (or `<info/>`) element, exactly as it will be hashed and sent. */
  readonly info: string;
}

export interface AnonymousRequestOptions extends RequestHeaderOptions {
  readonly appId: string;
}

export interface AuthenticatedRequestOptions extends RequestHeaderOptions {
  /** Session token from CreateAuthenticatedSessionToken (§4.4); opaque. */
  readonly authToken: string;
  readonly userAuthToken?: string;
  readonly offlinePersonId?: string;
  /** Session shared secret: base64 text as returned by CAST, or the decoded bytes. */
  readonly sharedSecret: string | Uint8Array;
  readonly hashAlgorithm?: HashAlgorithm;
  readonly hmacAlgorithm?: HmacAlgorithm;
}

/** Anonymous method (GetServiceDefinition, CAST): header/app-id, no auth, no info-hash (§4.3). */
export function buildAnonymousRequest(options: AnonymousRequestOptions): string {
  const header = buildHeader(options, textElement('app-id', requireGuid(options.appId, 'appId')), '');
  return `<wc-request:request xmlns:wc-request="${REQUEST_NAMESPACE}">${header}${checkInfo(options.info)}</wc-request:request>`;
}

/** Authenticated method: auth/hmac-data over the header, header/info-hash over the info (§4.2). */
export function buildAuthenticatedRequest(options: AuthenticatedRequestOptions): string {
  const hashAlg = options.hashAlgorithm ?? 'SHA256';
  const hmacAlg = options.hmacAlgorithm ?? 'HMACSHA256';
  const info = checkInfo(options.info);
  const infoHash = computeHash(hashAlg, info).toString('base64');
  let session = textElement('auth-token', nonEmpty(options.authToken, 'authToken'));
  if (options.userAuthToken !== undefined && options.offlinePersonId !== undefined) invalid('userAuthToken and offlinePersonId are exclusive');
  if (options.userAuthToken !== undefined) session += textElement('user-auth-token', nonEmpty(options.userAuthToken, 'userAuthToken'));
  if (options.offlinePersonId !== undefined) {
    session += `<offline-person-info>${textElement('offline-person-id', requireGuid(options.offlinePersonId, 'offlinePersonId'))}</offline-person-info>`;
  }
  const hashXml = `<info-hash><hash-data algName="${hashAlg}">${infoHash}</hash-data></info-hash>`;
  const header = buildHeader(options, `<auth-session>${session}</auth-session>`, hashXml);
  const secret = bytesFrom(options.sharedSecret, 'sharedSecret');
  const hmac = computeHmac(hmacAlg, secret, header).toString('base64');
  const auth = `<auth><hmac-data algName="${hmacAlg}">${hmac}</hmac-data></auth>`;
  return `<wc-request:request xmlns:wc-request="${REQUEST_NAMESPACE}">${auth}${header}${info}</wc-request:request>`;
}

function nonEmpty(value: string, what: string): string {
  if (value.trim() === '') invalid(`${what} must not be empty`);
  return value;
}

function checkInfo(info: string): string {
  if (!(info === '<info/>' || (info.startsWith('<info>') && info.endsWith('</info>')))) {
    invalid('info must be a complete <info>…</info> or <info/> element (use the build*Info functions)');
  }
  return info;
}

/** Header children in XSD sequence order (§4.2). */
function buildHeader(o: RequestHeaderOptions, identity: string, infoHash: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]{0,99}$/.test(o.method)) invalid(`method name ${preview(o.method)} is not valid`);
  if (!Number.isSafeInteger(o.methodVersion) || o.methodVersion < 0) invalid('methodVersion must be a non-negative integer');
  const ttl = o.msgTtl ?? DEFAULT_MSG_TTL;
  if (!Number.isSafeInteger(ttl) || ttl < 0) invalid('msgTtl must be a non-negative integer (seconds)');
  let h = `<header>${textElement('method', o.method)}<method-version>${o.methodVersion}</method-version>`;
  if (o.targetPersonId !== undefined) h += textElement('target-person-id', requireGuid(o.targetPersonId, 'targetPersonId'));
  if (o.recordId !== undefined) h += textElement('record-id', requireGuid(o.recordId, 'recordId'));
  h += identity;
  if (o.language !== undefined) h += textElement('language', nonEmpty(o.language, 'language'));
  if (o.country !== undefined) h += textElement('country', nonEmpty(o.country, 'country'));
  if (o.cultureCode !== undefined) h += textElement('culture-code', nonEmpty(o.cultureCode, 'cultureCode'));
  if (o.finalXsl !== undefined) h += textElement('final-xsl', nonEmpty(o.finalXsl, 'finalXsl'));
  h += `<msg-time>${dateTimeText(o.msgTime, 'msgTime')}</msg-time><msg-ttl>${ttl}</msg-ttl>`;
  h += textElement('version', nonEmpty(o.version, 'version'));
  return `${h}${infoHash}</header>`;
}

export interface AlgorithmValue<A extends string> {
  /** The algName attribute as received. */
  readonly algName: string;
  /** Undefined when the codec does not support algName (the platform would answer 105/4). */
  readonly algorithm: A | undefined;
  /** Base64 text as received. */
  readonly value: string;
}

export interface ParsedRequest {
  readonly root: XmlElement;
  readonly header: XmlElement;
  readonly info: XmlElement;
  /** `<header>…</header>` exactly as received: the HMAC input. */
  readonly rawHeader: string;
  /** `<info>…</info>` exactly as received: the info-hash input. */
  readonly rawInfo: string;
  readonly method: string;
  readonly methodVersion: number;
  readonly anonymous: boolean;
  readonly appId: string | undefined;
  readonly authToken: string | undefined;
  readonly userAuthToken: string | undefined;
  readonly offlinePersonId: string | undefined;
  readonly targetPersonId: string | undefined;
  readonly recordId: string | undefined;
  readonly language: string | undefined;
  readonly country: string | undefined;
  readonly cultureCode: string | undefined;
  readonly msgTime: string;
  readonly msgTtl: number;
  readonly version: string;
  readonly infoHash: AlgorithmValue<HashAlgorithm> | undefined;
  readonly hmac: AlgorithmValue<HmacAlgorithm> | undefined;
}

/**
 * Parses a received request (simulator side). Structure only: verifying the hash and HMAC is left
 * to verifyInfoHash / verifyHeaderHmac so the caller can answer with the right status code.
 */
export function parseRequest(input: string | Uint8Array, limits?: XmlParseOptions): ParsedRequest {
  const root = expectRoot(elementOf(input, limits), REQUEST_NAMESPACE, 'request');
  // Exactly [auth] header info, in order: a second header or info could split what is hashed from
  // what is read (signature wrapping), so anything else is refused.
  const names = root.children.map((c) => c.local).join(',');
  if (names !== 'auth,header,info' && names !== 'header,info') unexpected(root, `children must be [auth,] header, info in that order; found ${names || 'none'}`);
  const header = requiredChild(root, 'header');
  const info = requiredChild(root, 'info');
  const appId = optionalText(header, 'app-id');
  const session = optionalChild(header, 'auth-session');
  if ((appId === undefined) === (session === undefined)) unexpected(header, 'needs exactly one of <app-id> or <auth-session>');
  if (appId !== undefined && !isGuid(appId)) unexpected(header, `<app-id> is not a GUID: ${preview(appId)}`);
  const msgTime = requiredText(header, 'msg-time');
  if (!isDateTime(msgTime)) unexpected(header, `<msg-time> is not an xs:dateTime: ${preview(msgTime)}`);
  const offline = session === undefined ? undefined : optionalChild(session, 'offline-person-info');
  const auth = optionalChild(root, 'auth');
  return {
    root, header, info, rawHeader: rawXml(header), rawInfo: rawXml(info),
    method: requiredText(header, 'method'),
    methodVersion: integerText(header, 'method-version'),
    anonymous: session === undefined,
    appId,
    authToken: session === undefined ? undefined : requiredText(session, 'auth-token'),
    userAuthToken: session === undefined ? undefined : optionalText(session, 'user-auth-token'),
    offlinePersonId: offline === undefined ? undefined : optionalGuid(offline, 'offline-person-id'),
    targetPersonId: optionalGuid(header, 'target-person-id'),
    recordId: optionalGuid(header, 'record-id'),
    language: optionalText(header, 'language'),
    country: optionalText(header, 'country'),
    cultureCode: optionalText(header, 'culture-code'),
    msgTime,
    msgTtl: integerText(header, 'msg-ttl'),
    version: requiredText(header, 'version'),
    infoHash: algorithmValue(optionalChild(header, 'info-hash'), 'hash-data', hashAlgorithmOf),
    hmac: algorithmValue(auth, 'hmac-data', hmacAlgorithmOf),
  };
}

function optionalGuid(parent: XmlElement, local: string): string | undefined {
  const value = optionalText(parent, local);
  if (value !== undefined && !isGuid(value)) unexpected(parent, `<${local}> is not a GUID: ${preview(value)}`);
  return value;
}

function algorithmValue<A extends string>(parent: XmlElement | undefined, local: string, known: (n: string) => A | undefined): AlgorithmValue<A> | undefined {
  if (parent === undefined) return undefined;
  const el = requiredChild(parent, local);
  const algName = el.attrs.algName ?? unexpected(el, 'missing algName attribute');
  return { algName, algorithm: known(algName), value: textOf(el) };
}

/** Recomputes the info-hash over the received `<info>` bytes; constant-time compare (§4.2). */
export function verifyInfoHash(request: ParsedRequest): boolean {
  const hash = request.infoHash;
  if (hash?.algorithm === undefined) return false;
  const received = decodeBase64Strict(hash.value);
  return received !== undefined && constantTimeEqual(received, computeHash(hash.algorithm, request.rawInfo));
}

/** Recomputes auth/hmac-data over the received `<header>` bytes with the session secret (§4.2). */
export function verifyHeaderHmac(request: ParsedRequest, sharedSecret: string | Uint8Array): boolean {
  const hmac = request.hmac;
  if (hmac?.algorithm === undefined) return false;
  const received = decodeBase64Strict(hmac.value);
  const secret = typeof sharedSecret === 'string' ? decodeBase64Strict(sharedSecret, true) : sharedSecret;
  if (received === undefined || secret === undefined) return false;
  return constantTimeEqual(received, computeHmac(hmac.algorithm, secret, request.rawHeader));
}

/**
 * True once msg-time + msg-ttl lies before `now` (the platform then answers 49, §4.2). Allowed
 * clock skew is undocumented (§7.12) [I]; pass one if needed.
 */
export function isRequestExpired(request: ParsedRequest, now: Date | number, skewMs = 0): boolean {
  // xs:dateTime without a zone is read as UTC [I]: the SDKs always send UTC.
  const text = /(Z|[+-]\d{2}:\d{2})$/.test(request.msgTime) ? request.msgTime : `${request.msgTime}Z`;
  const sent = Date.parse(text);
  if (Number.isNaN(sent)) return true;
  return sent + request.msgTtl * 1000 + skewMs < (typeof now === 'number' ? now : now.getTime());
}
