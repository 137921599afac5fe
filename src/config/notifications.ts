// Settings of the notification receiver on the public route (composed in ./index.ts); the bounds
// of the HTTP listeners in front of it are in ./http.ts.
import { bool, int, setting } from './kit.ts';

export const NOTIFICATION_SETTINGS = {
  notificationBodyLimitBytes: setting('NOTIFICATION_BODY_LIMIT_BYTES', 'Largest notification body accepted (413 above it; a larger body is still read and discarded up to max(4 MiB, 2 × this) so the client can read the 413, beyond that the connection is closed).', 262_144, int(1024, 16 * 1_048_576)),
  notificationRateLimit: setting('NOTIFICATION_RATE_LIMIT', 'Verified notification requests accepted per instance per NOTIFICATION_RATE_WINDOW_MS (429 above it, with Retry-After). Only requests whose HMAC verified count.', 20_000, int(1, 10_000_000)),
  notificationAuthFailureLimit: setting('NOTIFICATION_AUTH_FAILURE_LIMIT', 'Failed authentications (401) per instance per NOTIFICATION_RATE_WINDOW_MS; beyond it failures answer 429. A budget of its own: failures never use up NOTIFICATION_RATE_LIMIT.', 1_000, int(1, 10_000_000)),
  notificationRateWindowMs: setting('NOTIFICATION_RATE_WINDOW_MS', 'Window of NOTIFICATION_RATE_LIMIT and NOTIFICATION_AUTH_FAILURE_LIMIT.', 1000, int(100, 3_600_000)),
  notificationRetryAfterSeconds: setting('NOTIFICATION_RETRY_AFTER_SECONDS', 'Retry-After sent with 503 when Kafka is unavailable or slow.', 5, int(1, 3600)),
  notificationAcceptHexMac: setting('NOTIFICATION_ACCEPT_HEX_MAC', 'Also accept a hex-encoded HMAC in the Authorization header (the encoding is not documented; base64 is the default reading).', false, bool),
} as const;
