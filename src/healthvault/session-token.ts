// CreateAuthenticatedSessionToken v2 (healthvault-protocol.md §4.4): how an app-only server app
// gets the session token and shared secret that sign every eventing call.
// The certificate credential signs the exact `<content>…</content>` string RSA-SHA1 (PKCS#1 v1.5)
// and embeds that same string after `<sig>` [C]; thumbprint = upper-case hex SHA-1 of the DER [I].
import { createHash, createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { HvgError } from '../errors.ts';
import type { KeyObject } from 'node:crypto';
import { rawXml } from './safe-xml.ts';
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { elementOf, expectRoot, guidText, requiredChild, requiredText, textOf, unexpected } from './xml-query.ts';
import type { XmlInput } from './xml-query.ts';
import { buildAnonymousRequest, parseRequest } from './request-envelope.ts';
import type { ParsedRequest, RequestHeaderOptions } from './request-envelope.ts';
import { buildResponse, requiredInfo, successfulResponse } from './response-envelope.ts';
import type { ResponseInput } from './response-envelope.ts';
import { computeHmac, constantTimeEqual, hmacAlgorithmOf } from './digest.ts';
import type { HmacAlgorithm } from './digest.ts';
import { HV_METHODS, requestInfoNamespaces } from './methods.ts';
import { escapeAttr, escapeText, textElement } from './xml-escape.ts';
import { bytesFrom, dateTimeText, decodeBase64Strict, invalid, isDateTime, isGuid, preview, requireGuid } from './validation.ts';

const CAST = HV_METHODS.CreateAuthenticatedSessionToken;

const APP_RECORD_AUTH_ACTIONS = [
  '', 'AuthorizationRequired', 'ReauthorizationRequired', 'ReauthorizationNotPossible', 'NoActionRequired', 'RecordLocationNotSupported',
] as const;
export type AppRecordAuthAction = (typeof APP_RECORD_AUTH_ACTIONS)[number];

export type CertificateInput = string | Uint8Array | X509Certificate;

function certificateOf(certificate: CertificateInput): X509Certificate {
  return certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
}

/** Upper-case hex SHA-1 of the certificate DER, the .NET thumbprint convention [I] (§4.4). */
export function certificateThumbprint(certificate: CertificateInput): string {
  return createHash('sha1').update(certificateOf(certificate).raw).digest('hex').toUpperCase();
}

/** The signed `<content>` string; its bytes are what sig / hmacSig cover. */
function buildCastContent(appId: string, hmacAlgorithm: HmacAlgorithm, signingTime: Date | string): string {
  return `<content>${textElement('app-id', requireGuid(appId, 'appId'))}<hmac>${hmacAlgorithm}</hmac>` +
    `<signing-time>${dateTimeText(signingTime, 'signingTime')}</signing-time></content>`;
}

/** Certificate apps (web / offline server apps) sign with the private key registered in ACC. */
export interface CertificateCredential {
  readonly privateKey: string | KeyObject;
  readonly certificate: CertificateInput;
}
/** SODA / client apps sign with the app instance's shared secret (§4.4). */
export interface SharedSecretCredential {
  readonly sharedSecret: string | Uint8Array;
  readonly algorithm?: HmacAlgorithm;
}

export interface CastInfoOptions {
  readonly appId: string;
  readonly credential: CertificateCredential | SharedSecretCredential;
  /** Algorithm the session's request HMACs will use (content/hmac). Default HMACSHA256. */
  readonly hmacAlgorithm?: HmacAlgorithm;
  /** "HealthVault will reject requests signed too far in the past" (§4.4). */
  readonly signingTime: Date | string;
  readonly isMultiRecordApp?: boolean;
}

export interface CastRequestOptions extends Omit<RequestHeaderOptions, 'method' | 'methodVersion' | 'info'>, Omit<CastInfoOptions, 'signingTime'> {
  /** Defaults to msgTime. */
  readonly signingTime?: Date | string;
}

export function buildCastInfo(options: CastInfoOptions): string {
  const content = buildCastContent(options.appId, options.hmacAlgorithm ?? 'HMACSHA256', options.signingTime);
  const cred = options.credential;
  let signature: string;
  if ('privateKey' in cred) {
    const { sig, thumbprint } = signContent(content, cred);
    signature = `<sig digestMethod="SHA1" sigMethod="RSA-SHA1" thumbprint="${thumbprint}">${sig}</sig>`;
  } else {
    const alg = cred.algorithm ?? 'HMACSHA256';
    const mac = computeHmac(alg, bytesFrom(cred.sharedSecret, 'sharedSecret'), content).toString('base64');
    signature = `<hmacSig algName="${alg}">${mac}</hmacSig>`;
  }
  const appIdAttr = options.isMultiRecordApp === true ? ' is-multi-record-app="true"' : '';
  return `<info><auth-info><app-id${appIdAttr}>${options.appId}</app-id><credential><appserver2>${signature}${content}</appserver2></credential></auth-info></info>`;
}

/**
 * RSA-SHA1 over the content bytes. The signature is checked against the certificate right away:
 * a key/certificate mismatch is a configuration error better reported here than as status 4
 * (BAD_SIG) from the platform.
 */
function signContent(content: string, cred: CertificateCredential): { sig: string; thumbprint: string } {
  let sig: Buffer;
  let cert: X509Certificate;
  try {
    const key = typeof cred.privateKey === 'string' ? createPrivateKey(cred.privateKey) : cred.privateKey;
    sig = sign('sha1', Buffer.from(content, 'utf8'), key);
    cert = certificateOf(cred.certificate);
  } catch (err) {
    throw new HvgError('HVG_ERR_VALIDATION', 'the application private key or certificate cannot be used (PEM expected)', { cause: err });
  }
  if (!verify('sha1', Buffer.from(content, 'utf8'), cert.publicKey, sig)) invalid('the application private key does not match its certificate');
  return { sig: sig.toString('base64'), thumbprint: certificateThumbprint(cert) };
}

/** The complete anonymous CAST v2 request (fixture createauthenticatedsessiontoken2-request.xml). */
export function buildCastRequest(options: CastRequestOptions): string {
  const { appId, credential, hmacAlgorithm, signingTime, isMultiRecordApp, ...header } = options;
  const info = buildCastInfo({
    appId, credential, signingTime: signingTime ?? options.msgTime,
    ...(hmacAlgorithm === undefined ? {} : { hmacAlgorithm }),
    ...(isMultiRecordApp === undefined ? {} : { isMultiRecordApp }),
  });
  return buildAnonymousRequest({ ...header, appId, method: CAST.name, methodVersion: CAST.version, info });
}

export type CastCredential =
  | { readonly kind: 'sig'; readonly signature: string; readonly digestMethod: string; readonly sigMethod: string; readonly thumbprint: string }
  | { readonly kind: 'hmacSig'; readonly algName: string; readonly value: string };

export interface ParsedCastInfo {
  readonly appId: string;
  readonly isMultiRecordApp: boolean;
  /** `<content>…</content>` exactly as received: the signed bytes. */
  readonly rawContent: string;
  readonly contentAppId: string;
  readonly hmacAlgName: string;
  readonly hmacAlgorithm: HmacAlgorithm | undefined;
  readonly signingTime: string;
  readonly credential: CastCredential;
}

/** Parses the CAST v2 `<info>` (simulator side); signature checks are separate. */
export function parseCastInfo(input: XmlInput, limits?: XmlParseOptions): ParsedCastInfo {
  const info = expectRoot(elementOf(input, limits), requestInfoNamespaces(CAST.name), 'info');
  const authInfo = requiredChild(info, 'auth-info');
  const appIdEl = requiredChild(authInfo, 'app-id');
  const appserver = requiredChild(requiredChild(authInfo, 'credential'), 'appserver2');
  const content = requiredChild(appserver, 'content');
  const hmacAlgName = requiredText(content, 'hmac');
  const signingTime = requiredText(content, 'signing-time');
  if (!isDateTime(signingTime)) unexpected(content, `<signing-time> is not an xs:dateTime: ${preview(signingTime)}`);
  return {
    appId: guidText(authInfo, 'app-id'),
    isMultiRecordApp: appIdEl.attrs['is-multi-record-app'] === 'true',
    rawContent: rawXml(content),
    contentAppId: guidText(content, 'app-id'),
    hmacAlgName, hmacAlgorithm: hmacAlgorithmOf(hmacAlgName), signingTime,
    credential: parseCredential(appserver),
  };
}

function parseCredential(appserver: XmlElement): CastCredential {
  const sigs = appserver.children.filter((c) => c.local === 'sig' || c.local === 'hmacSig');
  const sig = sigs[0];
  if (sigs.length !== 1 || sig === undefined) unexpected(appserver, 'needs exactly one of <sig> or <hmacSig>');
  const attr = (name: string): string => sig.attrs[name] ?? unexpected(sig, `missing attribute ${name}`);
  if (sig.local === 'hmacSig') return { kind: 'hmacSig', algName: attr('algName'), value: textOf(sig) };
  return { kind: 'sig', signature: textOf(sig), digestMethod: attr('digestMethod'), sigMethod: attr('sigMethod'), thumbprint: attr('thumbprint') };
}

export interface ParsedCastRequest extends ParsedCastInfo {
  readonly request: ParsedRequest;
}

/** Parses a whole CAST request: anonymous envelope, method CreateAuthenticatedSessionToken v2. */
export function parseCastRequest(input: string | Uint8Array | ParsedRequest, limits?: XmlParseOptions): ParsedCastRequest {
  const request = typeof input === 'string' || input instanceof Uint8Array ? parseRequest(input, limits) : input;
  if (request.method !== CAST.name || request.methodVersion !== CAST.version) {
    unexpected(request.header, `expected ${CAST.name} v${CAST.version}, found ${preview(request.method)} v${request.methodVersion}`);
  }
  if (!request.anonymous) unexpected(request.header, `${CAST.name} is anonymous: header must carry <app-id>, not <auth-session>`);
  return { ...parseCastInfo(request.info), request };
}

/**
 * Verifies a `sig` credential: the thumbprint must name `certificate` and the signature must cover
 * the received content bytes. RSA-SHA1/SHA1 is what the SDKs send; RSA-SHA256/SHA256 is also
 * accepted [I]. False (never a throw) for anything that does not verify.
 */
export function verifyCastSignature(parsed: ParsedCastInfo, certificate: CertificateInput): boolean {
  const cred = parsed.credential;
  if (cred.kind !== 'sig') return false;
  const digest = cred.sigMethod === 'RSA-SHA1' && cred.digestMethod === 'SHA1' ? 'sha1'
    : cred.sigMethod === 'RSA-SHA256' && cred.digestMethod === 'SHA256' ? 'sha256' : undefined;
  const signature = decodeBase64Strict(cred.signature, true);
  if (digest === undefined || signature === undefined) return false;
  try {
    const cert = certificateOf(certificate);
    if (certificateThumbprint(cert) !== cred.thumbprint.toUpperCase()) return false;
    return verify(digest, Buffer.from(parsed.rawContent, 'utf8'), cert.publicKey, signature);
  } catch {
    return false;
  }
}

/** Verifies an `hmacSig` credential with the app instance's shared secret (SODA apps). */
export function verifyCastHmacSig(parsed: ParsedCastInfo, sharedSecret: string | Uint8Array): boolean {
  const cred = parsed.credential;
  if (cred.kind !== 'hmacSig') return false;
  const alg = hmacAlgorithmOf(cred.algName);
  const received = decodeBase64Strict(cred.value, true);
  const secret = typeof sharedSecret === 'string' ? decodeBase64Strict(sharedSecret, true) : sharedSecret;
  if (alg === undefined || received === undefined || secret === undefined) return false;
  return constantTimeEqual(received, computeHmac(alg, secret, parsed.rawContent));
}

export interface SessionToken {
  readonly appId: string;
  readonly token: string;
  /** Base64, as sent; decode with sharedSecretBytes or pass as is to buildAuthenticatedRequest. */
  readonly sharedSecret: string;
  readonly appRecordAuthAction: AppRecordAuthAction;
}

/** The CAST v2 answer (fixture createauthenticatedsessiontoken2-response.xml). */
export function buildCastResponse(session: Omit<SessionToken, 'appRecordAuthAction' | 'sharedSecret'> & {
  readonly sharedSecret: string | Uint8Array; readonly appRecordAuthAction?: AppRecordAuthAction;
}): string {
  const secret = bytesFrom(session.sharedSecret, 'sharedSecret').toString('base64');
  if (session.token.trim() === '') invalid('token must not be empty');
  const action = session.appRecordAuthAction ?? 'NoActionRequired';
  const inner = `<token app-id="${escapeAttr(requireGuid(session.appId, 'appId'))}" app-record-auth-action="${action}">` +
    `${escapeText(session.token)}</token><shared-secret>${secret}</shared-secret>`;
  return buildResponse({ code: 0, info: { name: CAST.responseInfo, inner } });
}

export function parseCastResponse(input: ResponseInput, limits?: XmlParseOptions): SessionToken {
  const info = requiredInfo(successfulResponse(input, CAST.responseInfo, limits), CAST.responseInfo);
  const tokenEl = requiredChild(info, 'token');
  const token = textOf(tokenEl);
  if (token === '') unexpected(tokenEl, 'is empty');
  const appId = tokenEl.attrs['app-id'] ?? unexpected(tokenEl, 'missing attribute app-id');
  if (!isGuid(appId)) unexpected(tokenEl, `app-id is not a GUID: ${preview(appId)}`);
  const action = tokenEl.attrs['app-record-auth-action'] ?? '';
  if (!(APP_RECORD_AUTH_ACTIONS as readonly string[]).includes(action)) unexpected(tokenEl, `unknown app-record-auth-action ${preview(action)}`);
  const secretText = requiredText(info, 'shared-secret');
  if (decodeBase64Strict(secretText, true) === undefined) unexpected(requiredChild(info, 'shared-secret'), 'is not valid base64');
  return { appId, token, sharedSecret: secretText, appRecordAuthAction: action as AppRecordAuthAction };
}
