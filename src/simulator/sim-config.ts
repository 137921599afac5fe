// Simulator configuration: what a JSON config file (or a test) may say, with defaults, checked
// once at start. Every problem is collected and reported together with the field path.
import { X509Certificate } from 'node:crypto';
import { HvgError } from '../errors.ts';
import { certificateThumbprint, decodeBase64Strict, isGuid } from '../healthvault/index.ts';
import { DEFAULT_COUNTRY_INSTANCES } from './countries.ts';
import { DEFAULT_QUIRKS, quirkProblems, type SimQuirks } from './quirks.ts';

/** Method groups an application may be granted (ACC "Methods" tab, healthvault-protocol.md §1.1). */
export const METHOD_GROUPS = ['eventing'] as const;
export type MethodGroup = (typeof METHOD_GROUPS)[number];

export interface InstanceSpec {
  /** String id (§3.1); defaults to the next free integer. */
  readonly id?: string;
  readonly name?: string;
  readonly description?: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  /** The simulator serves no Shell; this only fills the topology (§3.2). */
  readonly shellUrl?: string;
}

export interface ApplicationSpec {
  readonly appId: string;
  /** PEM certificates registered for the app (an app may have several, §4.4). */
  readonly certificates?: readonly string[];
  /** SODA apps sign CAST with hmacSig and this base64 shared secret instead (§4.4). */
  readonly sharedSecret?: string;
  /** Subscription URLs must share its root unless enforceActionUrlRoot is false (§1.1). */
  readonly actionUrl: string;
  /** Default: every group, eventing included. */
  readonly methodGroups?: readonly string[];
  /** Instances the app is configured in (per-instance ACC, §1.1); default: all, also added ones. */
  readonly instances?: readonly string[];
}

export interface DeliveryRewrite {
  readonly from: string;
  readonly to: string;
}

/** Everything is optional; see resolveConfig for the defaults and docs/simulator.md for meanings. */
export interface SimulatorConfig {
  readonly host?: string;
  /** Host written into platform URLs (default: host, or 127.0.0.1 when host is a wildcard). */
  readonly advertisedHost?: string;
  readonly controlPort?: number;
  readonly logLevel?: string;
  readonly instances?: readonly InstanceSpec[];
  readonly applications?: readonly ApplicationSpec[];
  readonly tokenTtlSeconds?: number;
  readonly signingTimeSkewSeconds?: number;
  readonly msgTimeSkewSeconds?: number;
  readonly enforceActionUrlRoot?: boolean;
  readonly subscriptionLimit?: number;
  /** GetThings: most ids in one request group before 124 TOO_MANY_THINGS_SPECIFIED [I] (§4.6.4). */
  readonly getThingsMaxIds?: number;
  /** GetThings: full things per group; further matches come back as unprocessed-thing-key-info (§4.6.4). */
  readonly getThingsMaxFullThings?: number;
  /** Country (ISO 3166-1 alpha-2) → instance id for SelectInstance (§3.3). */
  readonly countryInstances?: Readonly<Record<string, string>>;
  /** Groups of thing type ids that are versions of one type: a filter on one matches all (§1.1). */
  readonly thingTypeFamilies?: readonly (readonly string[])[];
  readonly batchWindowMs?: number;
  readonly maxNotificationsPerBatch?: number;
  readonly batchAcrossSubscriptions?: boolean;
  readonly deliveryTimeoutMs?: number;
  readonly deliveryConcurrency?: number;
  readonly deliveryLogLimit?: number;
  readonly retryFirstSeconds?: number;
  readonly retryMaxIntervalSeconds?: number;
  readonly retryHorizonSeconds?: number;
  /** Divides every retry duration (first interval, cap, horizon) so tests run fast. */
  readonly timeScale?: number;
  readonly deliveryRewrites?: readonly DeliveryRewrite[];
  /** Behaviours of a strict platform, for every instance (quirks.ts; per instance via the control API). */
  readonly quirks?: Partial<SimQuirks>;
}

export interface RegisteredApp {
  readonly appId: string;
  /** Upper-case thumbprint → certificate. */
  readonly certificates: ReadonlyMap<string, X509Certificate>;
  readonly sharedSecret: Buffer | undefined;
  readonly actionUrl: string;
  readonly actionUrlRoot: string;
  readonly methodGroups: ReadonlySet<string>;
  readonly instances: ReadonlySet<string> | undefined;
}

export interface ResolvedConfig {
  readonly host: string;
  readonly advertisedHost: string;
  readonly controlPort: number;
  readonly logLevel: string;
  readonly instances: readonly InstanceSpec[];
  readonly applications: ReadonlyMap<string, RegisteredApp>;
  readonly tokenTtlMs: number;
  readonly signingTimeSkewMs: number;
  readonly msgTimeSkewMs: number;
  readonly enforceActionUrlRoot: boolean;
  readonly subscriptionLimit: number;
  readonly getThingsMaxIds: number;
  readonly getThingsMaxFullThings: number;
  readonly countryInstances: ReadonlyMap<string, string>;
  readonly thingTypeFamilies: readonly (readonly string[])[];
  readonly batchWindowMs: number;
  readonly maxNotificationsPerBatch: number;
  readonly batchAcrossSubscriptions: boolean;
  readonly deliveryTimeoutMs: number;
  readonly deliveryConcurrency: number;
  readonly deliveryLogLimit: number;
  /** Already divided by timeScale. */
  readonly retryFirstMs: number;
  readonly retryMaxIntervalMs: number;
  readonly retryHorizonMs: number;
  readonly timeScale: number;
  readonly deliveryRewrites: readonly DeliveryRewrite[];
  readonly quirks: Readonly<SimQuirks>;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** US "1" and EU "2", the two known instances (§3.1). */
const DEFAULT_INSTANCES: readonly InstanceSpec[] = [
  { id: '1', name: 'US', description: 'Simulated US instance' },
  { id: '2', name: 'EU', description: 'Simulated EU instance' },
];

/**
 * ActionURL `https://www.app.com/hv/redirect.aspx` ⇒ subscription URLs must begin
 * `https://www.app.com/hv/` (§1.1): origin plus the path up to its last '/'. Host case is
 * normalised by URL; the path is compared case-sensitively [I].
 */
function actionUrlRoot(actionUrl: string): string {
  const u = new URL(actionUrl);
  return `${u.origin}${u.pathname.slice(0, u.pathname.lastIndexOf('/') + 1)}`;
}

export function validateRewrites(value: unknown, path: string, problems: string[]): DeliveryRewrite[] {
  if (!Array.isArray(value)) {
    problems.push(`${path} must be an array of {from, to}`);
    return [];
  }
  return value.flatMap((r: unknown, i) => {
    const from = (r as { from?: unknown } | null)?.from;
    const to = (r as { to?: unknown } | null)?.to;
    if (typeof from !== 'string' || typeof to !== 'string' || !URL.canParse(from) || !URL.canParse(to)) {
      problems.push(`${path}[${i}] needs absolute URLs "from" and "to"`);
      return [];
    }
    return [{ from, to }];
  });
}

function num(problems: string[], name: string, value: unknown, def: number, min: number, max: number, integer = true): number {
  if (value === undefined) return def;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
    return def;
  }
  return value;
}

function bool(problems: string[], name: string, value: unknown, def: boolean): boolean {
  if (value === undefined) return def;
  if (typeof value !== 'boolean') problems.push(`${name} must be true or false`);
  return typeof value === 'boolean' ? value : def;
}

export function checkInstanceSpec(spec: InstanceSpec, path: string, problems: string[]): void {
  if (typeof spec !== 'object' || spec === null) {
    problems.push(`${path} must be an object`);
    return;
  }
  if (spec.id !== undefined && (typeof spec.id !== 'string' || spec.id.trim() === '' || spec.id.length > 255 || /[/?#\s]/.test(spec.id))) {
    problems.push(`${path}.id must be 1..255 characters without spaces, '/', '?' or '#'`);
  }
  num(problems, `${path}.port`, spec.port, 0, 0, 65535);
  for (const key of ['name', 'description', 'shellUrl'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'string') problems.push(`${path}.${key} must be a string`);
  }
  if (spec.shellUrl !== undefined && !URL.canParse(spec.shellUrl)) problems.push(`${path}.shellUrl must be an absolute URL`);
}

function resolveApp(spec: ApplicationSpec, path: string, problems: string[]): RegisteredApp | undefined {
  const before = problems.length;
  if (typeof spec !== 'object' || spec === null) {
    problems.push(`${path} must be an object`);
    return undefined;
  }
  if (typeof spec.appId !== 'string' || !isGuid(spec.appId)) problems.push(`${path}.appId must be a GUID`);
  const certificates = new Map<string, X509Certificate>();
  if (spec.certificates !== undefined && !Array.isArray(spec.certificates)) problems.push(`${path}.certificates must be an array of PEM strings`);
  for (const [i, pem] of (Array.isArray(spec.certificates) ? spec.certificates : []).entries()) {
    try {
      const cert = new X509Certificate(pem);
      certificates.set(certificateThumbprint(cert), cert);
    } catch {
      problems.push(`${path}.certificates[${i}] is not a PEM certificate`);
    }
  }
  const sharedSecret = spec.sharedSecret === undefined ? undefined : decodeBase64Strict(spec.sharedSecret, true);
  if (spec.sharedSecret !== undefined && sharedSecret === undefined) problems.push(`${path}.sharedSecret must be base64`);
  if (certificates.size === 0 && sharedSecret === undefined && problems.length === before) {
    problems.push(`${path} needs at least one certificate (or a sharedSecret) to authenticate with`);
  }
  if (typeof spec.actionUrl !== 'string' || !spec.actionUrl.startsWith('https://') || !URL.canParse(spec.actionUrl)) {
    problems.push(`${path}.actionUrl must be an absolute https:// URL`);
  }
  const groups = Array.isArray(spec.methodGroups) ? spec.methodGroups : METHOD_GROUPS;
  for (const g of groups) if (!(METHOD_GROUPS as readonly string[]).includes(g)) problems.push(`${path}.methodGroups: unknown group "${g}" (known: ${METHOD_GROUPS.join(', ')})`);
  if (problems.length > before) return undefined;
  return {
    appId: spec.appId.toLowerCase(), certificates, sharedSecret, actionUrl: spec.actionUrl, actionUrlRoot: actionUrlRoot(spec.actionUrl),
    methodGroups: new Set(groups), instances: spec.instances === undefined ? undefined : new Set(spec.instances),
  };
}

/** Applies defaults and checks everything; throws HVG_ERR_CONFIG listing every problem. */
export function resolveConfig(input: SimulatorConfig = {}): ResolvedConfig {
  const problems: string[] = [];
  const c = input;
  const list = <T>(name: string, value: readonly T[] | undefined, def: readonly T[]): readonly T[] => {
    if (value === undefined) return def;
    if (Array.isArray(value)) return value;
    problems.push(`${name} must be an array`);
    return [];
  };
  const instances = list('instances', c.instances, DEFAULT_INSTANCES);
  if (instances.length === 0) problems.push('instances must list at least one instance');
  instances.forEach((spec, i) => checkInstanceSpec(spec, `instances[${i}]`, problems));
  const ids = instances.map((s) => s?.id).filter((id) => id !== undefined);
  if (new Set(ids).size !== ids.length) problems.push('instances: ids must be unique');

  const applications = new Map<string, RegisteredApp>();
  list('applications', c.applications, []).forEach((spec, i) => {
    const app = resolveApp(spec, `applications[${i}]`, problems);
    if (app !== undefined) applications.set(app.appId, app);
  });

  const countryInstances = new Map<string, string>();
  if (c.countryInstances !== undefined && (typeof c.countryInstances !== 'object' || c.countryInstances === null || Array.isArray(c.countryInstances))) {
    problems.push('countryInstances must be an object of country → instance id');
  }
  for (const [country, id] of Object.entries(c.countryInstances ?? DEFAULT_COUNTRY_INSTANCES)) {
    if (typeof id !== 'string') problems.push(`countryInstances.${country} must be an instance id string`);
    else countryInstances.set(country.toUpperCase(), id);
  }
  const families = list('thingTypeFamilies', c.thingTypeFamilies, []);
  families.forEach((f, i) => {
    if (!Array.isArray(f) || f.some((id) => typeof id !== 'string' || !isGuid(id))) problems.push(`thingTypeFamilies[${i}] must be a list of GUIDs`);
  });

  const timeScale = num(problems, 'timeScale', c.timeScale, 1, 0.001, 1e9, false);
  const scaled = (seconds: number): number => (seconds * 1000) / timeScale;
  const host = typeof c.host === 'string' ? c.host : '127.0.0.1';
  const quirkIssues = c.quirks === undefined ? [] : quirkProblems(c.quirks, 'quirks');
  problems.push(...quirkIssues);
  const resolved: ResolvedConfig = {
    host,
    advertisedHost: c.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host),
    controlPort: num(problems, 'controlPort', c.controlPort, 0, 0, 65535),
    logLevel: LOG_LEVELS.includes(c.logLevel ?? 'info') ? c.logLevel ?? 'info' : (problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}`), 'info'),
    instances,
    applications,
    // "4h is the default HealthVault token expiry time" [C] (§4.4).
    tokenTtlMs: num(problems, 'tokenTtlSeconds', c.tokenTtlSeconds, 4 * 3600, 0.001, 1e7, false) * 1000,
    // Allowed skews are undocumented (§7.12) [I]: 5 minutes, like common signed-request schemes.
    signingTimeSkewMs: num(problems, 'signingTimeSkewSeconds', c.signingTimeSkewSeconds, 300, 0, 1e7, false) * 1000,
    msgTimeSkewMs: num(problems, 'msgTimeSkewSeconds', c.msgTimeSkewSeconds, 300, 0, 1e7, false) * 1000,
    enforceActionUrlRoot: bool(problems, 'enforceActionUrlRoot', c.enforceActionUrlRoot, true),
    subscriptionLimit: num(problems, 'subscriptionLimit', c.subscriptionLimit, 25, 0, 1e6),
    getThingsMaxIds: num(problems, 'getThingsMaxIds', c.getThingsMaxIds, 500, 1, 1e5),
    getThingsMaxFullThings: num(problems, 'getThingsMaxFullThings', c.getThingsMaxFullThings, 240, 1, 1e5),
    countryInstances,
    thingTypeFamilies: families.map((f) => f.map((id) => id.toLowerCase())),
    batchWindowMs: num(problems, 'batchWindowMs', c.batchWindowMs, 50, 0, 60_000),
    maxNotificationsPerBatch: num(problems, 'maxNotificationsPerBatch', c.maxNotificationsPerBatch, 100, 1, 10_000),
    batchAcrossSubscriptions: bool(problems, 'batchAcrossSubscriptions', c.batchAcrossSubscriptions, false),
    // The platform's HTTP timeout is unpublished (§2.7) [I].
    deliveryTimeoutMs: num(problems, 'deliveryTimeoutMs', c.deliveryTimeoutMs, 10_000, 1, 600_000),
    deliveryConcurrency: num(problems, 'deliveryConcurrency', c.deliveryConcurrency, 32, 1, 10_000),
    deliveryLogLimit: num(problems, 'deliveryLogLimit', c.deliveryLogLimit, 10_000, 1, 10_000_000),
    // "several times, with increasing duration", at most 10 days (§2.7); schedule [I].
    retryFirstMs: scaled(num(problems, 'retryFirstSeconds', c.retryFirstSeconds, 60, 0.001, 1e7, false)),
    retryMaxIntervalMs: scaled(num(problems, 'retryMaxIntervalSeconds', c.retryMaxIntervalSeconds, 3600, 0.001, 1e8, false)),
    retryHorizonMs: scaled(num(problems, 'retryHorizonSeconds', c.retryHorizonSeconds, 10 * 86400, 0, 1e8, false)),
    timeScale,
    deliveryRewrites: validateRewrites(c.deliveryRewrites ?? [], 'deliveryRewrites', problems),
    quirks: { ...DEFAULT_QUIRKS, ...(quirkIssues.length === 0 ? c.quirks : {}) },
  };
  if (problems.length > 0) {
    throw new HvgError('HVG_ERR_CONFIG', `invalid simulator configuration: ${problems.join('; ')}`, { details: { problems } });
  }
  return resolved;
}
