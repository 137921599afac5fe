// CreateAuthenticatedSessionToken v2 on the platform side (healthvault-protocol.md §4.4): the app
// proves itself with an RSA signature (or SODA hmacSig) over the exact <content> bytes; the
// platform answers with a token and a fresh shared secret for the session's request HMACs.
import { buildCastResponse, parseCastRequest, verifyCastHmacSig, verifyCastSignature } from '../healthvault/index.ts';
import type { ParsedRequest } from '../healthvault/index.ts';
import { fail, parseOr, S } from './platform-context.ts';
import type { Caller, PlatformContext } from './platform-context.ts';

/** Signature methods the codec verifies: what the SDKs send, plus SHA-256 (§4.4). */
const SIGNATURE_METHODS = new Set(['RSA-SHA1/SHA1', 'RSA-SHA256/SHA256']);

function parseTime(text: string): number {
  return Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`);
}

export function handleCast(ctx: PlatformContext, request: ParsedRequest, caller: Caller): string {
  const cast = parseOr(S.INVALID_XML, () => parseCastRequest(request));
  const app = caller.app;
  // [I] The signed content must name the calling app; a mismatch is a signature problem (4).
  if (cast.appId.toLowerCase() !== app.appId || cast.contentAppId.toLowerCase() !== app.appId) {
    fail(S.BAD_SIG, 'auth-info/app-id and content/app-id must both be the app-id of the request header');
  }
  // [I] 105 for algorithms the platform does not offer.
  if (cast.hmacAlgorithm === undefined) fail(S.INVALID_SIGNATURE_ALGORITHM, `content/hmac ${JSON.stringify(cast.hmacAlgName)} is not HMACSHA256 or HMACSHA1`);

  const cred = cast.credential;
  if (cred.kind === 'sig') {
    if (!SIGNATURE_METHODS.has(`${cred.sigMethod}/${cred.digestMethod}`)) {
      fail(S.INVALID_SIGNATURE_ALGORITHM, `sigMethod ${JSON.stringify(cred.sigMethod)} with digestMethod ${JSON.stringify(cred.digestMethod)} is not supported`);
    }
    const cert = app.certificates.get(cred.thumbprint.toUpperCase());
    // [I] An unregistered thumbprint and a bad signature both answer 4 BAD_SIG.
    if (cert === undefined) fail(S.BAD_SIG, `no certificate with thumbprint ${cred.thumbprint.slice(0, 64)} is registered for application ${app.appId}`);
    if (!verifyCastSignature(cast, cert)) fail(S.BAD_SIG, 'the signature does not verify over <content> with the registered certificate');
  } else {
    if (app.sharedSecret === undefined) fail(S.BAD_SIG, `application ${app.appId} has no shared secret registered; sign with its certificate`);
    if (!verifyCastHmacSig(cast, app.sharedSecret)) fail(S.BAD_SIG, 'hmacSig does not verify over <content> with the application shared secret');
  }

  // "HealthVault will reject requests signed too far in the past" (§4.4); the allowed skew and the
  // status code are undocumented [I]: signingTimeSkewSeconds either way, 49 REQUEST_TIMED_OUT.
  const signedAt = parseTime(cast.signingTime);
  const now = Date.now();
  if (Number.isNaN(signedAt) || Math.abs(now - signedAt) > ctx.config.signingTimeSkewMs) {
    fail(S.REQUEST_TIMED_OUT, `signing-time ${cast.signingTime} is more than ${ctx.config.signingTimeSkewMs / 1000} s away from the platform clock`);
  }

  const session = ctx.sessions.issue(app.appId, cast.hmacAlgorithm, now);
  return buildCastResponse({ appId: cast.appId, token: session.token, sharedSecret: session.sharedSecret });
}
