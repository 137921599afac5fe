// What a Kafka failure means for the operator, and whether waiting can help. A broker that has
// just started or a cluster electing leaders fails requests in ways that pass by themselves
// (retriable); wrong credentials, a missing ACL or an untrusted certificate never pass and must
// stop the start at once with a message that says what to fix, instead of a hang.
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { backoffDelay, settleWithin, sleep } from '../retry.ts';

interface KafkaishError {
  name?: string;
  message?: string;
  type?: string;
  code?: string | number;
  retriable?: boolean;
  /** @platformatic/kafka: the broker's error name, and whether the library may retry it */
  apiId?: string;
  canRetry?: boolean;
  cause?: unknown;
  errors?: unknown[];
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The innermost error: kafkajs wraps the real one in "retries exceeded" and aggregate errors. */
export function rootCause(err: unknown): KafkaishError {
  let e = (err ?? {}) as KafkaishError;
  for (let i = 0; i < 5; i++) {
    const inner = e.cause ?? e.errors?.[0];
    if (!inner || typeof inner !== 'object') break;
    e = inner as KafkaishError;
  }
  return e;
}

export type KafkaFailure =
  | { kind: 'retriable'; message: string }
  | { kind: 'fatal'; message: string };

/** Classify a kafkajs or @platformatic/kafka error; `fatal` messages tell the operator which setting or ACL to fix. */
export function classifyKafkaError(err: unknown, who: string): KafkaFailure {
  const e = rootCause(err);
  const top = (err ?? {}) as KafkaishError;
  const message = e.message ?? String(err);
  const type = e.type ?? top.type ?? e.apiId ?? '';
  if (e.name === 'KafkaJSSASLAuthenticationError' || e.code === 'PLT_KFK_AUTHENTICATION' || type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(message)) {
    return { kind: 'fatal', message: `Kafka refused the SASL credentials of ${who}: ${message}; check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD` };
  }
  if (type === 'TOPIC_AUTHORIZATION_FAILED' || type === 'GROUP_AUTHORIZATION_FAILED' || type === 'CLUSTER_AUTHORIZATION_FAILED' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') {
    return { kind: 'fatal', message: `Kafka denied ${who} (${type}): ${message}; grant the ACLs listed in README "Connecting to your Kafka"` };
  }
  if (typeof e.code === 'string' && TLS_CODES.has(e.code)) {
    return { kind: 'fatal', message: `TLS with Kafka failed (${e.code}: ${message}); check KAFKA_SSL_CA_FILE and KAFKA_SSL_SERVERNAME` };
  }
  if (e.name === 'KafkaJSServerDoesNotSupportApiKey' || type === 'UNSUPPORTED_SASL_MECHANISM' || type === 'ILLEGAL_SASL_STATE') {
    return { kind: 'fatal', message: `${who}: ${message}; check KAFKA_SASL_MECHANISM and that KAFKA_BROKERS names the listener that expects it` };
  }
  if (type === 'INVALID_REPLICATION_FACTOR' || type === 'POLICY_VIOLATION' || type === 'INVALID_CONFIG' || type === 'INVALID_PARTITIONS') {
    return { kind: 'fatal', message: `${who}: ${message}` };
  }
  // kafkajs marks protocol errors; connection errors (a broker still booting) are retriable.
  // A "retries exceeded" wrapper is not itself a verdict: its cause decides.
  // "Failed to find group coordinator" hides its cause (KafkaDiagnostics recovers it where it can):
  // on a starting cluster it passes, so it is retried within the deadline.
  const retriable = e.retriable ?? top.retriable ?? e.canRetry ?? true;
  const waitable = retriable || e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSGroupCoordinatorNotFound';
  return { kind: waitable ? 'retriable' : 'fatal', message: `${who}: ${message}` };
}


/**
 * Run `step` until it succeeds, retrying retriable failures with jittered backoff (logged at
 * debug: these are the normal states of a starting cluster) until `deadline`; a fatal failure,
 * or one that outlasts the deadline, rejects with HVG_ERR_KAFKA_FATAL / HVG_ERR_KAFKA_UNREACHABLE.
 */
export async function retryUntil<T>(what: string, deadline: number, logger: Logger, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (err instanceof HvgError) throw err;
      const f = classifyKafkaError(err, what);
      if (f.kind === 'fatal') throw new HvgError('HVG_ERR_KAFKA_FATAL', f.message, { cause: err });
      const delay = backoffDelay(attempt, { baseMs: 200, maxMs: 2000, jitter: 'equal' });
      if (Date.now() + delay > deadline) {
        throw new HvgError('HVG_ERR_KAFKA_UNREACHABLE', `${f.message} (still failing after ${attempt} attempts; KAFKA_CONNECT_TIMEOUT_MS ran out)`, { cause: err });
      }
      logger.debug({ attempt, retryInMs: Math.round(delay), err: f.message }, `${what}: not yet, retrying`);
      await sleep(delay, undefined, true);
    }
  }
}

/** Resolve within `ms` whatever `disconnect` does (a dead broker must not hang shutdown). */
export async function disconnectWithin(client: { disconnect(): Promise<void> } | null | undefined, ms = 5000): Promise<void> {
  if (!client) return;
  await settleWithin(client.disconnect(), ms);
}
