// The application's session with one instance (healthvault-protocol.md §4.4): CAST v2 signed
// with the app certificate's private key gives a token + shared secret that sign every eventing
// call. One CAST in flight at a time, whatever the number of callers (no stampede after expiry);
// renewal starts in the background before the assumed expiry; an answer that says the token is
// no longer good (65, 8, 7: the platform expired or forgot it) retires the token once.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { HvgError, isHvgError } from '../errors.ts';
import { buildCastRequest, parseCastResponse, HV_METHODS } from '../healthvault/index.ts';
import { abortable, forInstance, summarize, type ErrorSummary } from './instance-errors.ts';
import type { PlatformClient } from './platform-client.ts';

const CAST = HV_METHODS.CreateAuthenticatedSessionToken;

export interface AppSessionOptions {
  readonly label: string;
  readonly instanceId: string;
  readonly appId: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  readonly client: PlatformClient;
  readonly clientVersion: string;
  readonly msgTtlSeconds: number;
  /** Assumed token lifetime: undocumented, the SDK assumes 4 h [C] (§4.4, §7.12). */
  readonly ttlMs: number;
  readonly renewBeforeMs: number;
  /** A refused credential is remembered this long before CAST is tried again. */
  readonly refusalHoldMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface Session {
  readonly token: string;
  /** base64, as CAST returned it; keys the request HMACs (§4.2) */
  readonly sharedSecret: string;
  readonly obtainedAt: number;
  readonly expiresAt: number;
}

/** rejected = the platform refused even a freshly renewed token (7/8/65 twice in a row). */
export const SESSION_STATES = ['none', 'authenticating', 'active', 'failed', 'rejected'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export interface SessionStatus {
  readonly state: SessionState;
  readonly obtainedAt: string | null;
  readonly expiresAt: string | null;
  readonly lastError: ErrorSummary | null;
  /** CASTs this session started (attempts inside the transport are not counted here) */
  readonly casts: number;
  /** answers that said our token was no longer good (7, 8, 65), each answered by one renewal */
  readonly rejections: number;
}

export class AppSession {
  private readonly o: AppSessionOptions;
  private readonly now: () => number;
  private current: Session | undefined;
  private inflight: Promise<Session> | undefined;
  private failure: { error: unknown; at: number } | undefined;
  /** the platform refused a token we had just renewed; cleared by the next accepted call */
  private rejection: { error: unknown; at: number } | undefined;
  private casts = 0;
  private rejections = 0;

  constructor(options: AppSessionOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  /** A usable session: the cached one, or the CAST in flight, or a new CAST. */
  get(signal?: AbortSignal): Promise<Session> {
    const now = this.now();
    const cur = this.current;
    if (cur !== undefined && now < cur.expiresAt) {
      if (now >= cur.expiresAt - this.o.renewBeforeMs && this.inflight === undefined) {
        // Renew ahead of expiry without making this caller wait; a failure is recorded and the
        // still-valid token keeps serving until it really expires.
        this.cast().catch(() => undefined);
      }
      return Promise.resolve(cur);
    }
    const held = this.failure;
    if (this.inflight === undefined && held !== undefined && isHvgError(held.error) && !held.error.retriable && now - held.at < this.o.refusalHoldMs) {
      return Promise.reject(held.error);
    }
    return abortable(this.inflight ?? this.cast(), signal);
  }

  /**
   * The platform answered 65, 8 or 7 for `stale`. Renew unless that already happened: callers
   * that all sent with the same dead token end up sharing one CAST.
   */
  renew(stale: Session, signal?: AbortSignal): Promise<Session> {
    if (this.current === stale) {
      this.current = undefined;
      this.rejections++;
    }
    if (this.current !== undefined && this.now() < this.current.expiresAt) return Promise.resolve(this.current);
    return abortable(this.inflight ?? this.cast(), signal);
  }

  /**
   * The platform refused `fresh` too, right after a renewal: the token is dropped (the next call
   * casts again) and the state says so until a call is accepted.
   */
  rejected(fresh: Session, error: unknown): void {
    if (this.current === fresh) {
      this.current = undefined;
      this.rejections++;
    }
    this.rejection = { error, at: this.now() };
  }

  /** A call with `session` was answered with something other than a session refusal. */
  accepted(): void {
    this.rejection = undefined;
  }

  status(): SessionStatus {
    const cur = this.current;
    const active = cur !== undefined && this.now() < cur.expiresAt;
    const rejected = this.rejection !== undefined && this.inflight === undefined;
    const state: SessionState = rejected ? 'rejected' : this.inflight !== undefined && !active ? 'authenticating' : active ? 'active' : this.failure !== undefined ? 'failed' : 'none';
    const last = this.rejection ?? this.failure;
    return {
      state,
      obtainedAt: active ? new Date(cur.obtainedAt).toISOString() : null,
      expiresAt: active ? new Date(cur.expiresAt).toISOString() : null,
      lastError: last === undefined ? null : summarize(last.error, last.at),
      casts: this.casts,
      rejections: this.rejections,
    };
  }

  /** The refusal (not a network problem) that currently blocks this session, if any. */
  refusal(): HvgError | undefined {
    const r = this.rejection?.error;
    if (isHvgError(r)) return r;
    const e = this.failure?.error;
    return isHvgError(e) && e.code === 'HVG_ERR_INSTANCE_AUTH' ? e : undefined;
  }

  private cast(): Promise<Session> {
    this.casts++;
    const started = this.now();
    const run = async (): Promise<Session> => {
      const response = await this.o.client.send(
        () => buildCastRequest({
          appId: this.o.appId,
          credential: { privateKey: this.o.privateKey, certificate: this.o.certificate },
          msgTime: new Date(this.now()),
          msgTtl: this.o.msgTtlSeconds,
          version: this.o.clientVersion,
        }),
        { method: CAST.name },
      );
      let token;
      try {
        token = parseCastResponse(response);
      } catch (err) {
        throw this.castError(err);
      }
      if (token.appId.toLowerCase() !== this.o.appId.toLowerCase()) {
        throw new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `CreateAuthenticatedSessionToken returned a token for app ${token.appId}, not ${this.o.appId}`);
      }
      // The lifetime counts from when we asked, so clock drift during the call only shortens it.
      return { token: token.token, sharedSecret: token.sharedSecret, obtainedAt: started, expiresAt: started + this.o.ttlMs };
    };
    const p = run().then(
      (session) => {
        this.current = session;
        this.failure = undefined;
        this.inflight = undefined;
        this.o.logger.debug({ instanceId: this.o.instanceId, expiresAt: new Date(session.expiresAt).toISOString() }, 'app session established');
        return session;
      },
      (err: unknown) => {
        const e = forInstance(err, this.o.label, this.o.instanceId);
        this.failure = { error: e, at: this.now() };
        this.inflight = undefined;
        this.o.logger.warn({ err: e, instanceId: this.o.instanceId }, 'app session could not be established');
        throw e;
      },
    );
    this.inflight = p;
    return p;
  }

  /** A non-zero CAST status that no retry fixes means the platform refused our credential. */
  private castError(err: unknown): unknown {
    if (!isHvgError(err)) return err;
    if (err.code === 'HVG_ERR_HV_STATUS' || err.code === 'HVG_ERR_HV_SESSION_EXPIRED') {
      const status = err.details?.hvStatus;
      return new HvgError('HVG_ERR_INSTANCE_AUTH',
        `${this.o.label} refused the application credential (CreateAuthenticatedSessionToken, app ${this.o.appId}, ` +
        `certificate thumbprint ${this.o.certificate.fingerprint.replace(/:/g, '')}): ${err.message}. ` +
        'Check that the app is configured in that instance and this certificate is registered for it there.',
        { cause: err, details: { ...err.details, hvStatus: status } });
    }
    if (err.code.startsWith('HVG_ERR_XML') || err.code === 'HVG_ERR_PROTOCOL') {
      return new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `unreadable CreateAuthenticatedSessionToken answer: ${err.message}`, { cause: err });
    }
    return err;
  }
}
