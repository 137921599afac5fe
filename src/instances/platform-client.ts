// Transport to one instance's platform endpoint (healthvault-protocol.md §4.1): one undici Pool
// per upstream, explicit connect/headers/body timeouts plus a deadline per attempt, every response
// body consumed, and bounded jittered retries of transient failures only. It knows envelopes, not
// methods: the caller passes a builder that is called again for every attempt, so a resend gets a
// fresh msg-time and signature (status 49 means the message outlived its msg-ttl, §4.2).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Pool, type Dispatcher } from 'undici';
import { HvgError, isHvgError, type ErrorCode } from '../errors.ts';
import { parseResponse, type ParsedResponse, HV_STATUS_FAILED, HV_STATUS_REQUEST_TIMED_OUT } from '../healthvault/index.ts';
import { backoffDelay, settleWithin, sleep, type BackoffOptions } from '../retry.ts';

export interface PlatformClientOptions {
  /** Who this is, for error messages and logs, e.g. `instance "2" (EU)`. */
  readonly label: string;
  readonly instanceId: string | undefined;
  readonly platformUrl: string;
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** Deadline of one attempt, headers and body included. */
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  readonly retry: BackoffOptions;
  readonly maxResponseBytes: number;
  readonly logger: Logger;
}

export interface SendOptions {
  /** Method name, for logs and counters. */
  readonly method: string;
  readonly signal?: AbortSignal | undefined;
  /**
   * false for requests that must not run twice (SubscribeToEvent: a resend after an ambiguous
   * failure could create a second subscription). They are resent only when the platform surely did
   * not act: no connection was made, or status 49 (refused before the method ran [I]).
   */
  readonly idempotent?: boolean;
}

/** What one exchange taught us about the instance (reachability bookkeeping). */
export type ExchangeOutcome = { readonly answered: true } | { readonly answered: false; readonly error: HvgError };

// [I] HealthVault statuses worth resending as-is: 1 FAILED (generic/internal) and 49
// REQUEST_TIMED_OUT (rebuilt with a new msg-time). 152 maintenance is surfaced, not retried here:
// a maintenance window outlasts any backoff we would wait in-line.
const RETRY_STATUSES = new Set([HV_STATUS_FAILED, HV_STATUS_REQUEST_TIMED_OUT]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_ABORTED',
]);
/** Failures that happen before a request reaches the platform: safe to resend anything. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT']);
const SNIPPET_BYTES = 300;

class AttemptFailure extends Error {
  readonly retry: boolean;
  readonly error: HvgError;
  /** the request surely never reached the platform */
  readonly notSent: boolean;
  constructor(retry: boolean, error: HvgError, notSent = false) {
    super(error.message);
    this.retry = retry;
    this.error = error;
    this.notSent = notSent;
  }
}

export class PlatformClient {
  readonly url: string;
  private readonly o: PlatformClientOptions;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly counts = new Map<string, number>();
  private closed = false;
  /** Called after every attempt; the instance uses it for `reachable` and `lastError`. */
  onExchange: ((outcome: ExchangeOutcome) => void) | undefined;

  constructor(options: PlatformClientOptions) {
    this.o = options;
    this.url = options.platformUrl;
    const u = new URL(options.platformUrl);
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, {
      connections: options.connections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      maxResponseSize: options.maxResponseBytes,
      // platform answers are small; keep sockets warm between reconciler passes but not forever
      keepAliveTimeout: 10_000,
    });
  }

  /** Requests sent per method (every attempt counts): lets tests and metrics see CASTs. */
  requestCount(method: string): number {
    return this.counts.get(method) ?? 0;
  }

  /**
   * Sends the document `build()` returns; retries network errors, HTTP 5xx and statuses 1/49.
   * Resolves with the parsed envelope whatever its status code (65 and the rest are the caller's);
   * rejects with a coded HvgError naming the instance, or with the signal's reason on abort.
   */
  async send(build: () => string, options: SendOptions): Promise<ParsedResponse> {
    const correlationId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw this.error('HVG_ERR_INSTANCE_CLOSED', `${this.o.label}: client is closed`, options.method, attempt);
      options.signal?.throwIfAborted();
      this.counts.set(options.method, (this.counts.get(options.method) ?? 0) + 1);
      let outcome: ParsedResponse | AttemptFailure;
      try {
        outcome = await this.attempt(build(), options, attempt, correlationId);
        this.onExchange?.({ answered: true });
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        this.onExchange?.({ answered: false, error: err.error });
        outcome = err;
      }
      const idempotent = options.idempotent !== false;
      const retry = outcome instanceof AttemptFailure
        ? outcome.retry && (idempotent || outcome.notSent)
        : idempotent ? RETRY_STATUSES.has(outcome.code) : outcome.code === HV_STATUS_REQUEST_TIMED_OUT;
      if (!retry || attempt > this.o.maxRetries) {
        if (outcome instanceof AttemptFailure) throw outcome.error;
        return outcome;
      }
      const delay = backoffDelay(attempt, this.o.retry);
      this.o.logger.debug({ method: options.method, attempt, delay, reason: outcome instanceof AttemptFailure ? outcome.error.code : `status ${outcome.code}` }, 'retrying platform request');
      await sleep(delay, options.signal);
    }
  }

  private async attempt(body: string, options: SendOptions, attempt: number, correlationId: string): Promise<ParsedResponse> {
    const deadline = AbortSignal.timeout(this.o.requestTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const fail = (retry: boolean, code: ErrorCode, why: string, cause?: unknown, notSent = false) =>
      new AttemptFailure(retry, this.error(code, `${this.o.label} at ${this.url}: ${why} (${options.method}, attempt ${attempt})`, options.method, attempt, cause), notSent);
    const failed = (err: unknown): never => {
      if (options.signal?.aborted) throw options.signal.reason;
      if (deadline.aborted) throw fail(true, 'HVG_ERR_INSTANCE_UNREACHABLE', `no complete answer within ${this.o.requestTimeoutMs} ms`, err);
      if (err instanceof AttemptFailure) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') throw fail(false, 'HVG_ERR_INSTANCE_BAD_RESPONSE', `answer larger than ${this.o.maxResponseBytes} bytes`, err);
      if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') throw fail(false, 'HVG_ERR_INSTANCE_CLOSED', 'client is closed', err);
      const text = `${code ? `${code} ` : ''}${(err as Error).message ?? String(err)}`;
      throw fail(NETWORK_CODES.has(code), 'HVG_ERR_INSTANCE_UNREACHABLE', text, err, NOT_SENT_CODES.has(code));
    };

    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: this.path,
        // text/xml as the classic .NET SDK and python clients sent it [C] (§4.1)
        headers: { 'content-type': 'text/xml; charset=utf-8', 'wc_correlationid': correlationId },
        body,
        signal,
      });
    } catch (err) {
      return failed(err);
    }
    try {
      if (res.statusCode !== 200) {
        const snippet = await readSnippet(res.body);
        // Application errors come back as HTTP 200 (§4.1); anything else is the HTTP layer.
        if (res.statusCode >= 500) throw fail(true, 'HVG_ERR_INSTANCE_UNAVAILABLE', `HTTP ${res.statusCode}${snippet}`);
        throw fail(false, 'HVG_ERR_INSTANCE_BAD_RESPONSE', `unexpected HTTP ${res.statusCode}${snippet}`);
      }
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      try {
        return parseResponse(bytes);
      } catch (err) {
        throw fail(false, 'HVG_ERR_INSTANCE_BAD_RESPONSE', `unreadable response envelope: ${(err as Error).message}`, err);
      }
    } catch (err) {
      // whatever went wrong, the socket must not stay blocked behind an unread body
      res.body.destroy();
      return failed(err);
    }
  }

  private error(code: ErrorCode, message: string, method: string, attempts: number, cause?: unknown): HvgError {
    return new HvgError(code, message, {
      ...(cause === undefined || isHvgError(cause) ? {} : { cause }),
      details: { instanceId: this.o.instanceId, platformUrl: this.url, method, attempts },
    });
  }

  /**
   * Lets in-flight requests finish for up to `graceMs`, then destroys the sockets; later sends fail
   * with INSTANCE_CLOSED. Bounded so that shutdown never waits for a slow platform.
   */
  async close(graceMs = 1_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = await settleWithin(this.pool.close(), graceMs);
    if (!done) await this.pool.destroy().catch(() => undefined);
  }
}

/** The first SNIPPET_BYTES of an error body for the message; the rest is read and dropped (bounded by maxResponseSize). */
async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < SNIPPET_BYTES) text += (chunk as Buffer).toString('utf8');
  }
  const clean = text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_BYTES);
  return clean === '' ? '' : `: ${clean}`;
}
