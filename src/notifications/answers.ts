// What the public notification route answers for an error, and what goes to the log instead.
// The caller (a HealthVault instance, or anyone on the internet) gets a stable code and what it
// must do; nothing about the inside — no broker addresses, no accepted key versions, no stack.
// The detail (cause messages) is for the operator's log.
import { isHvgError, type HvgError } from '../errors.ts';

export interface PublicAnswer {
  status: number;
  code: string;
  message: string;
  /** Retry-After in seconds (503, 429) */
  retryAfterSeconds?: number;
  /** for the warn log only */
  detail?: string;
}

/** Errors that mean "Kafka does not have it (yet)": the platform must retry later. */
const SINK_CODES: ReadonlySet<string> = new Set(['HVG_ERR_KAFKA_UNREACHABLE', 'HVG_ERR_KAFKA_TIMEOUT', 'HVG_ERR_KAFKA_PRODUCE', 'HVG_ERR_SINK_OVERLOADED', 'HVG_ERR_SINK_CLOSED']);

const causeText = (err: Error): string => {
  const c = err.cause;
  return c instanceof Error ? `${err.message}: ${c.message}` : err.message;
};

function fromHvg(err: HvgError, retryAfterSeconds: number): PublicAnswer {
  if (SINK_CODES.has(err.code)) {
    return { status: 503, code: err.code, message: 'the notification could not be stored now; retry later', retryAfterSeconds, detail: causeText(err) };
  }
  if (err.code === 'HVG_ERR_TOPOLOGY_UNAVAILABLE') return { status: 503, code: err.code, message: err.message, retryAfterSeconds };
  if (err.code === 'HVG_ERR_RATE_LIMITED') {
    const after = err.details?.retryAfterSeconds;
    return { status: 429, code: err.code, message: err.message, retryAfterSeconds: typeof after === 'number' ? after : 1 };
  }
  if (err.statusCode >= 500) return { status: 500, code: 'HVG_ERR_INTERNAL', message: 'internal error', detail: causeText(err) };
  // 4xx answers already say what to fix and name only what the caller sent
  return { status: err.statusCode, code: err.code, message: err.message, ...(err.cause instanceof Error ? { detail: causeText(err) } : {}) };
}

/** Maps any error thrown on the notification route (ours, fastify's, node's) to its public answer. */
export function publicAnswer(err: unknown, opts: { bodyLimitBytes: number; retryAfterSeconds: number }): PublicAnswer {
  if (isHvgError(err)) return fromHvg(err, opts.retryAfterSeconds);
  const e = (err ?? {}) as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: 'HVG_ERR_BODY_TOO_LARGE', message: `the body is larger than ${opts.bodyLimitBytes} bytes (NOTIFICATION_BODY_LIMIT_BYTES)` };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own refusals (bad URL encoding, invalid params, aborted bodies): say what, not where
    return { status: e.statusCode, code: 'HVG_ERR_BAD_REQUEST', message: `the request was refused: ${String(e.message ?? '').slice(0, 200)}` };
  }
  return { status: 500, code: 'HVG_ERR_INTERNAL', message: 'internal error', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
