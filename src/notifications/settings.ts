// Settings of the notification receiver and of the HTTP servers in front of it (composed into
// src/config.ts). The HTTP bounds apply to both listeners; they are here because the public
// notification route is what they protect.
import { bool, int, setting } from '../config-kit.ts';

export const NOTIFICATION_SETTINGS = {
  notificationBodyLimitBytes: setting('NOTIFICATION_BODY_LIMIT_BYTES', 'Largest notification body accepted (413 above it; a larger body is still read and discarded up to max(4 MiB, 2 × this) so the client can read the 413, beyond that the connection is closed).', 262_144, int(1024, 16 * 1_048_576)),
  notificationRateLimit: setting('NOTIFICATION_RATE_LIMIT', 'Verified notification requests accepted per instance per NOTIFICATION_RATE_WINDOW_MS (429 above it, with Retry-After). Only requests whose HMAC verified count.', 20_000, int(1, 10_000_000)),
  notificationAuthFailureLimit: setting('NOTIFICATION_AUTH_FAILURE_LIMIT', 'Failed authentications (401) per instance per NOTIFICATION_RATE_WINDOW_MS; beyond it failures answer 429. A budget of its own: failures never use up NOTIFICATION_RATE_LIMIT.', 1_000, int(1, 10_000_000)),
  notificationRateWindowMs: setting('NOTIFICATION_RATE_WINDOW_MS', 'Window of NOTIFICATION_RATE_LIMIT and NOTIFICATION_AUTH_FAILURE_LIMIT.', 1000, int(100, 3_600_000)),
  notificationRetryAfterSeconds: setting('NOTIFICATION_RETRY_AFTER_SECONDS', 'Retry-After sent with 503 when Kafka is unavailable or slow.', 5, int(1, 3600)),
  notificationAcceptHexMac: setting('NOTIFICATION_ACCEPT_HEX_MAC', 'Also accept a hex-encoded HMAC in the Authorization header (the encoding is not documented; base64 is the default reading).', false, bool),
  httpHeadersTimeoutMs: setting('HTTP_HEADERS_TIMEOUT_MS', 'A client must send a request\'s complete headers within this long (408 and close otherwise); enforced within 1 s of the bound. At most HTTP_REQUEST_TIMEOUT_MS.', 10_000, int(100, 600_000)),
  httpRequestTimeoutMs: setting('HTTP_REQUEST_TIMEOUT_MS', 'A client must send a whole request (headers and body) within this long (408 and close otherwise); enforced within 1 s of the bound.', 30_000, int(100, 600_000)),
  httpKeepAliveTimeoutMs: setting('HTTP_KEEP_ALIVE_TIMEOUT_MS', 'An idle keep-alive connection is closed after this long (keep it above the idle timeout of the proxy in front).', 65_000, int(100, 600_000)),
  httpConnectionTimeoutMs: setting('HTTP_CONNECTION_TIMEOUT_MS', 'A socket with no activity at all for this long is closed (0 = never).', 120_000, int(0, 3_600_000)),
  httpMaxConnections: setting('HTTP_MAX_CONNECTIONS', 'Most open connections per listener; further ones are refused at once (closed).', 10_000, int(1, 1_000_000)),
} as const;
