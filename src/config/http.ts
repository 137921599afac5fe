// Settings of the process and its HTTP listeners (both the public notification listener and the
// admin one): where to bind, logging, shutdown, and the bounds every HTTP connection gets.
import { int, oneOf, setting, text } from './kit.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const HTTP_SETTINGS = {
  host: setting('HOST', 'Address the HTTP server binds to.', '0.0.0.0', text(/^[0-9A-Za-z.:[\]-]+$/, 'an address or host name')),
  port: setting('PORT', 'HTTP port of the public listener (notifications, /healthz, /readyz); the admin API is on ADMIN_PORT.', 8080, int(0, 65535)),
  logLevel: setting('LOG_LEVEL', 'pino log level.', 'info', oneOf(LOG_LEVELS)),
  bodyLimitBytes: setting('HTTP_BODY_LIMIT_BYTES', 'Largest request body accepted, in bytes.', 1_048_576, int(1024, 64 * 1_048_576)),
  shutdownGraceMs: setting('SHUTDOWN_GRACE_MS', 'Time allowed to drain in-flight work on SIGTERM before the process exits anyway.', 20_000, int(100, 600_000)),
  httpHeadersTimeoutMs: setting('HTTP_HEADERS_TIMEOUT_MS', 'A client must send a request\'s complete headers within this long (408 and close otherwise); enforced within 1 s of the bound. At most HTTP_REQUEST_TIMEOUT_MS.', 10_000, int(100, 600_000)),
  httpRequestTimeoutMs: setting('HTTP_REQUEST_TIMEOUT_MS', 'A client must send a whole request (headers and body) within this long (408 and close otherwise); enforced within 1 s of the bound.', 30_000, int(100, 600_000)),
  httpKeepAliveTimeoutMs: setting('HTTP_KEEP_ALIVE_TIMEOUT_MS', 'An idle keep-alive connection is closed after this long (keep it above the idle timeout of the proxy in front).', 65_000, int(100, 600_000)),
  httpConnectionTimeoutMs: setting('HTTP_CONNECTION_TIMEOUT_MS', 'A socket with no activity at all for this long is closed (0 = never).', 120_000, int(0, 3_600_000)),
  httpMaxConnections: setting('HTTP_MAX_CONNECTIONS', 'Most open connections per listener; further ones are refused at once (closed).', 10_000, int(1, 1_000_000)),
} as const;
