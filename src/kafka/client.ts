// The one place that builds a kafkajs client: brokers, TLS, SASL, timeouts, retries and the pino
// log bridge. Sink, subscription store, leadership, scripts and test helpers all come through here.
import { Kafka, logLevel, type KafkaConfig, type logCreator, type RetryOptions } from 'kafkajs';
import type { KafkaClientBase } from './api.ts';
import { KAFKA_LOG_LEVELS, pinoLogCreator } from './log.ts';

export interface KafkaClientOptions extends KafkaClientBase {
  retry?: RetryOptions;
  /** record causes kafkajs only logs at debug (consumers: why FindCoordinator failed) */
  diagnostics?: KafkaDiagnostics;
}

/**
 * kafkajs swallows the error of FindCoordinator and throws a bare "Failed to find group
 * coordinator", the same for a coordinator still loading (passes by itself) and a missing group
 * ACL (never does). Its debug log still carries the cause; this keeps the last one so explain()
 * can give the real error back, and a missing ACL fails the start at once with its name.
 */
export class KafkaDiagnostics {
  lastCoordinatorError: unknown = null;

  explain(err: unknown): unknown {
    const e = err as { name?: string } | null;
    return e?.name === 'KafkaJSGroupCoordinatorNotFound' && this.lastCoordinatorError ? this.lastCoordinatorError : err;
  }

  wrap(inner: logCreator | undefined, level: logLevel): logCreator {
    return (l) => {
      const next = inner?.(l);
      return (entry) => {
        const extra = entry.log as { message?: string; error?: unknown };
        if (extra.message === 'Tried to find group coordinator') this.lastCoordinatorError = extra.error ?? null;
        if (extra.message === 'Found group coordinator') this.lastCoordinatorError = null;
        if (next && entry.level <= level) next(entry);
      };
    };
  }
}

/** The kafkajs configuration for a connection (exported for tests: what TLS/SASL turn into). */
export function kafkajsConfig(o: KafkaClientOptions): KafkaConfig {
  const { connection: c } = o;
  const config: KafkaConfig = {
    clientId: o.clientIdSuffix ? `${c.clientId}-${o.clientIdSuffix}` : c.clientId,
    brokers: [...c.brokers],
    connectionTimeout: o.connectionTimeoutMs ?? 3000,
    // SASL handshakes over TLS on a loaded machine take longer than kafkajs' 1 s default
    authenticationTimeout: 10_000,
    logLevel: o.logger ? KAFKA_LOG_LEVELS[o.logLevel ?? 'warn'] : logLevel.NOTHING,
  };
  if (o.requestTimeoutMs !== undefined) config.requestTimeout = o.requestTimeoutMs;
  if (o.retry) config.retry = o.retry;
  if (o.logger) config.logCreator = pinoLogCreator(o.logger.child({ module: 'kafkajs' }));
  if (o.diagnostics) {
    // kafkajs must hand debug entries over; the configured level is applied after recording
    config.logCreator = o.diagnostics.wrap(config.logCreator, config.logLevel ?? logLevel.NOTHING);
    config.logLevel = logLevel.DEBUG;
  }
  const { tls, sasl } = c.security;
  if (tls) {
    // undefined ca = Node's bundled CAs; rejectUnauthorized stays on (Node's default)
    const opts: NonNullable<Exclude<KafkaConfig['ssl'], boolean>> = {};
    if (tls.ca !== undefined) opts.ca = [tls.ca];
    if (tls.cert !== undefined) opts.cert = tls.cert;
    if (tls.key !== undefined) opts.key = tls.key;
    if (tls.servername !== undefined) opts.servername = tls.servername;
    config.ssl = Object.keys(opts).length > 0 ? opts : true;
  }
  if (sasl) {
    const { username, password } = sasl;
    // spelled out per mechanism: kafkajs types each mechanism's options separately
    if (sasl.mechanism === 'plain') config.sasl = { mechanism: 'plain', username, password };
    else if (sasl.mechanism === 'scram-sha-256') config.sasl = { mechanism: 'scram-sha-256', username, password };
    else config.sasl = { mechanism: 'scram-sha-512', username, password };
  }
  return config;
}

export function createKafkaClient(o: KafkaClientOptions): Kafka {
  return new Kafka(kafkajsConfig(o));
}
