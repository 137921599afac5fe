// Settings of the instances module (registry, platform client, app session), composed in
// ./index.ts (INSTANCE_SETTINGS). Parsers throw ConfigValueError; parseSettings prefixes the
// variable name. Checks that need several variables at once are in checkInstanceSettings().
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { GUID_PATTERN } from '../healthvault/index.ts';
import { ConfigValueError, baseUrl, int, problem, setting, text, type SettingProblem, type SettingValues } from './kit.ts';

/** string255nw (healthvault-protocol.md §3.1): ids are strings, never parsed as numbers. */
const INSTANCE_ID = /^(?!\s*$)[^,\s]{1,255}$/;

/** One configured instance (HV_INSTANCES); the same fields a topology entry has (§3.2). */
export interface ExplicitInstance {
  readonly id: string;
  readonly name: string;
  readonly platformUrl: string;
  readonly shellUrl: string;
}

/** Which discovered instances are supported: all, only the one that answered, or listed ids. */
export type InstanceFilter = { readonly kind: 'all' } | { readonly kind: 'default' } | { readonly kind: 'ids'; readonly ids: readonly string[] };

const absoluteUrl = (raw: string, what: string): string => {
  try {
    const u = new URL(raw);
    if (u.protocol === 'https:' || u.protocol === 'http:') return raw;
  } catch {
    // reported below
  }
  throw new ConfigValueError(`${what} must be an absolute http(s) URL, got "${raw}"`);
};

/**
 * JSON array of {id, name?, platformUrl, shellUrl}. JSON rather than a home-made syntax because
 * each entry has four fields and URLs may contain any separator we could pick.
 */
const instanceList = (raw: string): ExplicitInstance[] => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigValueError('must be a JSON array like [{"id":"1","name":"US","platformUrl":"https://…/platform/wildcat.ashx","shellUrl":"https://…/"}]');
  }
  if (!Array.isArray(value) || value.length === 0) throw new ConfigValueError('must be a non-empty JSON array of instances');
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigValueError(`${at} must be an object`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['id', 'name', 'platformUrl', 'shellUrl'].includes(key)) throw new ConfigValueError(`${at} has unknown field "${key}"`);
    }
    if (typeof e.id !== 'string' || !INSTANCE_ID.test(e.id)) throw new ConfigValueError(`${at} needs "id": a string of 1..255 characters without commas or spaces`);
    if (seen.has(e.id)) throw new ConfigValueError(`${at} repeats id "${e.id}"`);
    seen.add(e.id);
    if (e.name !== undefined && (typeof e.name !== 'string' || e.name.trim() === '')) throw new ConfigValueError(`${at} "name" must be a non-empty string`);
    if (typeof e.platformUrl !== 'string') throw new ConfigValueError(`${at} needs "platformUrl"`);
    if (typeof e.shellUrl !== 'string') throw new ConfigValueError(`${at} needs "shellUrl"`);
    return {
      id: e.id,
      name: typeof e.name === 'string' ? e.name : e.id,
      platformUrl: absoluteUrl(e.platformUrl, `${at} "platformUrl"`),
      shellUrl: absoluteUrl(e.shellUrl, `${at} "shellUrl"`),
    };
  });
};

const instanceFilter = (raw: string): InstanceFilter => {
  if (raw === '*') return { kind: 'all' };
  if (raw === 'default') return { kind: 'default' };
  const ids = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ids.length === 0 || !ids.every((id) => INSTANCE_ID.test(id))) throw new ConfigValueError(`must be "*", "default" or a comma-separated list of instance ids, got "${raw}"`);
  return { kind: 'ids', ids: [...new Set(ids)] };
};

// Secret parsers never echo the value they reject.
const pemCertificate = (raw: string): X509Certificate => {
  try {
    return new X509Certificate(raw);
  } catch {
    throw new ConfigValueError('must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
};

/** RSA only: CAST v2 signs with RSA-SHA1 (healthvault-protocol.md §4.4). */
const pemRsaPrivateKey = (raw: string): KeyObject => {
  let key: KeyObject;
  try {
    key = createPrivateKey(raw);
  } catch {
    throw new ConfigValueError('must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigValueError(`must be an RSA key (CAST signs RSA-SHA1), got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
};

export const INSTANCE_SETTINGS = {
  hvAppId: setting('HV_APP_ID', 'HealthVault application id (GUID) the gateway authenticates as in every instance.', undefined, text(GUID_PATTERN, 'a GUID')),
  hvAppCert: setting('HV_APP_CERT', 'PEM certificate registered for the app in each instance (its thumbprint goes into CAST).', undefined, pemCertificate, { secret: true }),
  hvAppPrivateKey: setting('HV_APP_PRIVATE_KEY', 'PEM RSA private key of HV_APP_CERT; signs CreateAuthenticatedSessionToken.', undefined, pemRsaPrivateKey, { secret: true }),
  hvInstances: setting('HV_INSTANCES', 'Explicit instance list (JSON array of {id,name,platformUrl,shellUrl}); set this or HV_DISCOVERY_URL.', [] as ExplicitInstance[], instanceList, { defaultText: '(none: discover)' }),
  hvDiscoveryUrl: setting('HV_DISCOVERY_URL', 'Platform URL (…/platform/wildcat.ashx) of the default instance; its GetServiceDefinition topology lists the instances.', '', baseUrl, { defaultText: '(none)' }),
  hvInstanceFilter: setting('HV_INSTANCE_FILTER', 'Discovered instances to support: "*" (all), "default" (only the one at HV_DISCOVERY_URL) or ids "1,2".', { kind: 'all' } as InstanceFilter, instanceFilter, { defaultText: '*' }),
  hvDefaultInstanceId: setting('HV_DEFAULT_INSTANCE_ID', 'Instance used for SelectInstance; default: the one at HV_DISCOVERY_URL, or the first of HV_INSTANCES.', '', text(INSTANCE_ID, 'an instance id'), { defaultText: '(see doc)' }),
  hvTopologyRefreshMs: setting('HV_TOPOLOGY_REFRESH_MS', 'Interval of topology refresh and per-instance probes (identity, reachability, session).', 300_000, int(100, 86_400_000)),
  hvConnectTimeoutMs: setting('HV_CONNECT_TIMEOUT_MS', 'TCP/TLS connect timeout towards a platform.', 5_000, int(10, 120_000)),
  hvRequestTimeoutMs: setting('HV_REQUEST_TIMEOUT_MS', 'Deadline of one platform request attempt (headers and body included).', 30_000, int(10, 600_000)),
  hvMaxRetries: setting('HV_MAX_RETRIES', 'Retries of a transient failure (network, HTTP 5xx, HealthVault status 1 or 49) per request.', 2, int(0, 10)),
  hvRetryBaseMs: setting('HV_RETRY_BASE_MS', 'First retry delay; doubles per retry, full jitter, capped by HV_RETRY_MAX_MS.', 200, int(1, 60_000)),
  hvRetryMaxMs: setting('HV_RETRY_MAX_MS', 'Largest retry delay.', 5_000, int(1, 300_000)),
  hvPoolConnections: setting('HV_POOL_CONNECTIONS', 'Connections per instance (one undici Pool per platform).', 10, int(1, 1_000)),
  hvMaxResponseBytes: setting('HV_MAX_RESPONSE_BYTES', 'Largest platform answer read; larger ones fail.', 4 * 1_048_576, int(1024, 256 * 1_048_576)),
  hvMsgTtlSeconds: setting('HV_MSG_TTL_SECONDS', 'msg-ttl of every request (healthvault-protocol.md §4.2); SDK default 1800.', 1_800, int(1, 86_400)),
  hvSessionTtlSeconds: setting('HV_SESSION_TTL_SECONDS', 'Assumed lifetime of a session token (undocumented; the SDK assumes 4 h). Status 65 renews earlier.', 14_400, int(60, 604_800)),
  hvSessionRenewBeforeSeconds: setting('HV_SESSION_RENEW_BEFORE_SECONDS', 'Renew the session token this long before its assumed expiry (in the background).', 600, int(0, 86_400)),
  hvThingsBatchSize: setting('HV_THINGS_BATCH_SIZE', 'Thing ids per GetThings request (one group; the platform caps full things per group, 240 seen, healthvault-protocol.md §4.6.4).', 100, int(1, 240)),
  hvThingsConcurrency: setting('HV_THINGS_CONCURRENCY', 'GetThings requests in flight per instance; further ones wait their turn.', 4, int(1, 1_000)),
} as const;

/** Parsed values; index.ts's Config is assignable to it (INSTANCE_SETTINGS is composed in). */
export type InstanceSettings = SettingValues<typeof INSTANCE_SETTINGS>;

/** Checks across variables; an empty list means the settings are usable together. */
export function checkInstanceSettings(s: InstanceSettings): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const add = (variable: string, message: string) => problems.push(problem(variable, message));
  const explicit = s.hvInstances.length > 0;
  if (explicit && s.hvDiscoveryUrl !== '') add('HV_INSTANCES', 'and HV_DISCOVERY_URL are both set; set only one (explicit list or discovery)');
  if (!explicit && s.hvDiscoveryUrl === '') add('HV_DISCOVERY_URL', 'is required unless HV_INSTANCES lists the instances');
  if (explicit && s.hvInstanceFilter.kind !== 'all') add('HV_INSTANCE_FILTER', 'applies to discovery only; with HV_INSTANCES list exactly the instances to support');
  if (explicit && s.hvDefaultInstanceId !== '' && !s.hvInstances.some((i) => i.id === s.hvDefaultInstanceId)) {
    add('HV_DEFAULT_INSTANCE_ID', `names "${s.hvDefaultInstanceId}", which HV_INSTANCES does not list`);
  }
  if (s.hvSessionRenewBeforeSeconds >= s.hvSessionTtlSeconds) add('HV_SESSION_RENEW_BEFORE_SECONDS', 'must be smaller than HV_SESSION_TTL_SECONDS');
  if (s.hvRetryMaxMs < s.hvRetryBaseMs) add('HV_RETRY_MAX_MS', 'must not be smaller than HV_RETRY_BASE_MS');
  // A key that does not belong to the certificate would only show up as a CAST refusal per instance.
  if (!s.hvAppCert.checkPrivateKey(s.hvAppPrivateKey)) add('HV_APP_PRIVATE_KEY', 'does not belong to HV_APP_CERT');
  return problems;
}
