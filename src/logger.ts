// pino options shared by the gateway and the simulator: secrets never reach the log.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.authorization',
  '*.masterSecret',
  '*.sharedSecret',
  '*.notificationKey',
  '*.privateKey',
  '*.token',
  // Kafka SASL (src/kafka): never logged on purpose; this catches an accidental object dump
  '*.password',
  '*.kafkaSaslPassword',
  '*.sasl.password',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'hv-gateway' },
  };
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = unknown[];

/**
 * fastify's `childLoggerFactory`: the per-request child logger is made only when the request
 * logs at an enabled level. pino's child() copies and redacts the bindings on every call (~4 KB
 * and ~2 µs per request, measured with bench/profile-gateway.ts), and a notification that is
 * accepted logs nothing at the default level — so most requests never need it. The lazy child
 * answers `level` like the real one (the route's log level) and hands every enabled call to it.
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, opts);
}

class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #opts: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#opts = opts;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#opts));
  }

  get level(): string {
    return this.#child?.level ?? this.#opts.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  #log(method: LogMethod, args: LogArgs): void {
    if (this.#child === undefined) {
      // pino loggers carry their level table; anything else: log (never drop a line we cannot judge)
      const values = (this.#parent as { levels?: { values?: Record<string, number> } }).levels?.values;
      const at = values?.[method];
      const min = values?.[this.level];
      if (at !== undefined && min !== undefined && at < min) return;
    }
    const real = this.#real();
    (real[method] as (...a: LogArgs) => void).apply(real, args);
  }

  // prototype methods, like pino's own: arrow-function fields would allocate six closures per
  // request, the very cost this class exists to avoid
  fatal(...args: LogArgs): void {
    this.#log('fatal', args);
  }
  error(...args: LogArgs): void {
    this.#log('error', args);
  }
  warn(...args: LogArgs): void {
    this.#log('warn', args);
  }
  info(...args: LogArgs): void {
    this.#log('info', args);
  }
  debug(...args: LogArgs): void {
    this.#log('debug', args);
  }
  trace(...args: LogArgs): void {
    this.#log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}
