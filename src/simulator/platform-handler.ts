// One wildcat.ashx request, Fastify-free (healthvault-protocol.md §4): decode the body, parse the
// envelope, check method and version, authenticate over the exact received bytes, run the method.
// Every outcome is a response envelope; application errors are status codes, never HTTP errors
// or exceptions (§4.1).
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
import type { Logger } from 'pino';
import { buildErrorResponse, DEFAULT_XML_LIMITS, isRequestExpired, parseRequest, verifyHeaderHmac, verifyInfoHash } from '../healthvault/index.ts';
import type { ParsedRequest } from '../healthvault/index.ts';
import { fail, parseOr, PlatformFailure, S } from './platform-context.ts';
import type { Caller, PlatformContext } from './platform-context.ts';
import { PLATFORM_METHODS } from './platform-methods.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

/** Largest request document accepted (after decompression): the codec's XML limit. */
export const MAX_REQUEST_BYTES = DEFAULT_XML_LIMITS.maxBytes;

export interface PlatformAnswer {
  readonly xml: string;
  /** Method name for statistics ('(unparsed)' / '(unknown)' when there is none to trust). */
  readonly method: string;
  readonly status: number;
}

/**
 * gzip and deflate request bodies are accepted [I] (§4.1: the .NET Standard SDK compresses by
 * default). "deflate" is tried as zlib first, then raw (what .NET's DeflateStream writes) [I].
 */
async function decodeBody(body: Buffer, contentEncoding: string | undefined): Promise<Buffer> {
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  let out = body;
  const opts = { maxOutputLength: MAX_REQUEST_BYTES + 1 };
  for (const coding of codings.reverse()) {
    try {
      if (coding === 'gzip' || coding === 'x-gzip') out = await gunzipAsync(out, opts);
      else if (coding === 'deflate') out = await inflateAsync(out, opts).catch(() => inflateRawAsync(out, opts));
      else fail(S.INVALID_XML, `unsupported Content-Encoding ${JSON.stringify(coding)}`);
    } catch (err) {
      if (err instanceof PlatformFailure) throw err;
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') fail(S.REQUEST_TOO_LONG, `request body larger than ${MAX_REQUEST_BYTES} bytes once decompressed`);
      fail(S.INVALID_XML, `the ${coding} request body could not be decompressed`);
    }
  }
  if (out.length > MAX_REQUEST_BYTES) fail(S.REQUEST_TOO_LONG, `request body larger than ${MAX_REQUEST_BYTES} bytes`);
  return out;
}

/** The session's HMAC and info-hash over the received bytes, then expiry and msg-ttl (§4.2, §4.4). */
function authenticate(ctx: PlatformContext, request: ParsedRequest, now: number): Caller {
  const session = ctx.sessions.get(request.authToken ?? '');
  // [I] A token this instance never issued (another instance's, or one it forgot in a restart)
  // is answered like an expired one, so SDK-style clients re-authenticate (§4.4); the strict
  // implementation answered 8 INVALID_TOKEN instead (quirk unknownTokenStatus).
  if (session === undefined) {
    fail(ctx.quirks.unknownTokenStatus === 8 ? S.INVALID_TOKEN : S.SESSION_EXPIRED, 'the authenticated session token is unknown or has been revoked');
  }
  if (request.hmac === undefined) fail(S.BAD_SIG, 'authenticated methods need auth/hmac-data');
  if (request.hmac.algorithm !== session.hmacAlgorithm) {
    fail(S.BAD_SIG, `hmac-data algName ${JSON.stringify(request.hmac.algName)} is not the session's ${session.hmacAlgorithm}`);
  }
  if (!verifyHeaderHmac(request, session.sharedSecret)) fail(S.BAD_SIG, 'auth/hmac-data does not match the header');
  if (request.infoHash === undefined) fail(S.BAD_SIG, 'authenticated methods need header/info-hash');
  if (request.infoHash.algorithm === undefined) fail(S.BAD_SIG, `info-hash algName ${JSON.stringify(request.infoHash.algName)} is not SHA256 or SHA1`);
  if (!verifyInfoHash(request)) fail(S.BAD_SIG, 'info-hash does not match the info');
  if (session.expiresAt <= now) fail(S.SESSION_EXPIRED, 'the authenticated session token has expired');
  checkFresh(ctx, request, now);
  const app = ctx.appFor(session.appId);
  if (app === undefined) fail(S.INVALID_APP, `application ${session.appId} is not configured in instance ${ctx.instanceId}`);
  return { app, session };
}

/** msg-time + msg-ttl in the past → 49 (§4.2), with the configured clock skew [I]. */
function checkFresh(ctx: PlatformContext, request: ParsedRequest, now: number): void {
  if (isRequestExpired(request, now, ctx.config.msgTimeSkewMs)) {
    fail(S.REQUEST_TIMED_OUT, `the request expired: msg-time ${request.msgTime} + msg-ttl ${request.msgTtl} s is in the past`);
  }
}

export async function handlePlatformRequest(ctx: PlatformContext, body: Buffer, contentEncoding: string | undefined, log: Logger): Promise<PlatformAnswer> {
  let method = '(unparsed)';
  try {
    const decoded = await decodeBody(body, contentEncoding);
    const request = parseOr(S.INVALID_XML, () => parseRequest(decoded));
    const known = PLATFORM_METHODS.get(request.method);
    method = known === undefined ? '(unknown)' : request.method;
    if (known === undefined) fail(S.BAD_METHOD, `unknown method ${JSON.stringify(request.method.slice(0, 100))}`);
    if (known.spec.version !== request.methodVersion) {
      fail(S.BAD_METHOD, `${request.method} version ${request.methodVersion} is not supported (use ${known.spec.version})`);
    }
    const now = Date.now();
    let caller: Caller;
    if (request.anonymous) {
      // [I] An authenticated method called anonymously (header app-id, no session) is refused as 11.
      if (!known.spec.anonymous) fail(S.ACCESS_DENIED, `${request.method} needs an authenticated session (auth-session and auth)`);
      // Anonymous calls still name an app (§4.3); one not configured here is refused (6) [I].
      const app = ctx.appFor(request.appId);
      if (app === undefined) fail(S.INVALID_APP, `application ${request.appId ?? ''} is not configured in instance ${ctx.instanceId}`);
      checkFresh(ctx, request, now);
      caller = { app, session: undefined };
    } else {
      caller = authenticate(ctx, request, now);
    }
    if (known.group !== undefined && !caller.app.methodGroups.has(known.group)) {
      // The status for a missing method group is undocumented; ACCESS_DENIED is the likely one [I] (§1.1).
      fail(S.ACCESS_DENIED, `application ${caller.app.appId} is not granted the ${known.group} method group`);
    }
    return { xml: known.handle(ctx, request, caller), method, status: S.OK };
  } catch (err) {
    if (err instanceof PlatformFailure) {
      log.debug({ method, hvStatus: err.hvStatus, reason: err.message }, 'platform request refused');
      return { xml: buildErrorResponse(err.hvStatus, err.message), method, status: err.hvStatus };
    }
    log.error({ err, method }, 'platform request failed inside the simulator');
    return { xml: buildErrorResponse(S.FAILED, 'internal simulator error'), method, status: S.FAILED };
  }
}
