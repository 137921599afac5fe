// Settings of the control loop and the notification keys (composed in ./index.ts).
import { MASTER_SECRET_MIN_BYTES } from '../subscriptions/keys.ts';
import { ConfigValueError, baseUrl, bool, int, setting, text, type SettingProblem } from './kit.ts';

const masterSecret = (raw: string): string => {
  if (Buffer.byteLength(raw, 'utf8') < MASTER_SECRET_MIN_BYTES) throw new ConfigValueError(`must be at least ${MASTER_SECRET_MIN_BYTES} bytes (e.g. openssl rand -base64 48)`);
  return raw;
};

export const SUBSCRIPTION_SETTINGS = {
  publicBaseUrl: setting(
    'PUBLIC_BASE_URL',
    'Public https base URL under which HealthVault reaches this gateway; callbacks are {PUBLIC_BASE_URL}/notifications/{instanceId}/{name} and must share the application\'s ActionURL root.',
    undefined,
    baseUrl,
  ),
  publicBaseUrlAllowHttp: setting('PUBLIC_BASE_URL_ALLOW_HTTP', 'Development only: allow an http:// PUBLIC_BASE_URL (HealthVault delivers only to https; logged at warn).', false, bool),
  masterSecret: setting('HV_MASTER_SECRET', 'Master secret from which every notification key is derived (HKDF-SHA256); at least 32 bytes. Never logged or stored.', undefined, masterSecret, { secret: true }),
  stateTopic: setting('KAFKA_STATE_TOPIC', 'Compacted single-partition topic holding desired subscriptions and their observed state.', 'hv-gateway.subscriptions', text(/^[A-Za-z0-9._-]{1,249}$/, 'a legal Kafka topic name')),
  stateReplication: setting('KAFKA_STATE_REPLICATION', 'Replication factor of the state and leadership topics when the gateway creates them (-1 = broker default).', -1, int(-1, 32)),
  storeWriteTimeoutMs: setting('STORE_WRITE_TIMEOUT_MS', 'A subscription change not acknowledged and applied within this bound fails with 503.', 10_000, int(500, 120_000)),
  reconcileIntervalMs: setting('RECONCILE_INTERVAL_MS', 'Reconcile every instance at least this often (drift repair).', 60_000, int(1000, 86_400_000)),
  reconcileConcurrency: setting('RECONCILE_CONCURRENCY', 'Platform calls in flight per instance during a pass.', 2, int(1, 25)),
  reconcilePassTimeoutMs: setting('RECONCILE_PASS_TIMEOUT_MS', 'Bound on one reconcile pass over one instance.', 120_000, int(1000, 3_600_000)),
  keyRetryHorizonMs: setting(
    'KEY_RETRY_HORIZON_MS',
    'An older key version stays accepted in an instance until that instance confirmed a newer one and this long has passed since (HealthVault retries for up to 10 days; default 11 days).',
    11 * 86_400_000,
    int(0, 365 * 86_400_000),
  ),
  legacyKeyOverlapMs: setting('KEY_ROTATION_OVERLAP_MS', 'No longer used: replaced by KEY_RETRY_HORIZON_MS. When set it is ignored and a warning is logged at start.', '', (raw) => raw, { defaultText: '(unset)' }),
  leaderSessionTimeoutMs: setting('LEADER_SESSION_TIMEOUT_MS', 'Kafka group session timeout of the leadership group: a dead leader is replaced within about this long.', 10_000, int(6000, 300_000)),
} as const;

/** Checks across the subscription settings (index.ts runs them once each value is valid on its own). */
export function checkSubscriptionSettings(c: { readonly publicBaseUrl: string; readonly publicBaseUrlAllowHttp: boolean }): SettingProblem[] {
  if (c.publicBaseUrl.startsWith('https://') || c.publicBaseUrlAllowHttp) return [];
  return [{
    variable: 'PUBLIC_BASE_URL',
    message: `PUBLIC_BASE_URL must be an https:// URL (HealthVault delivers notifications only to https), got "${c.publicBaseUrl}"; for local development only, set PUBLIC_BASE_URL_ALLOW_HTTP=true`,
  }];
}
