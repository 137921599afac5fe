// The supported instances (healthvault-protocol.md §3, §5): an explicit list, or every instance the
// default instance's GetServiceDefinition v2 topology lists, refreshed with updated-date. A failed
// refresh keeps the last good view and says so. Every cycle also probes each instance (identity,
// reachability, session). Implements the reconciler's InstanceDirectory.
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import type { PreferredLocation, ServiceInstance } from '../healthvault/index.ts';
import type { InstanceDirectory } from '../subscriptions/platform.ts';
import { backoffDelay } from '../retry.ts';
import { instanceLabel, summarize } from './instance-errors.ts';
import { HvInstance } from './instance.ts';
import type { ReadinessProblem, RegisteredInstanceStatus, TopologyStatus } from './instance-types.ts';
import { PlatformClient } from './platform-client.ts';
import type { InstanceSettings } from '../config/instances.ts';
import { chooseInstances, compareIds, fetchTopology, sameInstance, sameUrl } from './topology.ts';

/** The header `version` (client version string, §4.2); old schema: 7..19 characters. */
const CLIENT_VERSION = 'hv-gateway 0.1';

export interface InstanceRegistryOptions {
  readonly settings: InstanceSettings;
  readonly logger: Logger;
  readonly now?: () => number;
  /** A refused credential is remembered this long before CAST is tried again (default 5 s) [I]. */
  readonly refusalHoldMs?: number;
}

interface Entry {
  readonly instance: HvInstance;
  supported: boolean;
}

export class InstanceRegistry implements InstanceDirectory {
  private readonly o: InstanceRegistryOptions;
  private readonly s: InstanceSettings;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly mode: 'explicit' | 'discovery';
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  private readonly stop = new AbortController();
  private readonly discoveryClient: PlatformClient | undefined;
  private defaultId: string | undefined;
  private updatedDate: string | undefined;
  private viewAt: number | undefined;
  private lastRefreshAt: number | undefined;
  private lastRefreshError: { error: unknown; at: number } | undefined;
  private failures = 0;
  private refreshing: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;

  constructor(options: InstanceRegistryOptions) {
    this.o = options;
    this.s = options.settings;
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    this.mode = this.s.hvInstances.length > 0 ? 'explicit' : 'discovery';
    if (this.mode === 'explicit') {
      for (const i of this.s.hvInstances) this.entries.set(i.id, { instance: this.makeInstance({ ...i, description: '' }), supported: true });
      this.defaultId = this.s.hvDefaultInstanceId || this.s.hvInstances[0]?.id;
      this.viewAt = this.now();
    } else {
      this.discoveryClient = this.makeClient('HV_DISCOVERY_URL platform', undefined, this.s.hvDiscoveryUrl);
    }
  }

  /** First refresh (never throws: failures are recorded and retried), then the refresh timer. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const ok = await this.refresh();
    this.schedule(ok);
  }

  /** One cycle: discovery (if configured) then a probe of every instance. Concurrent calls share it; false after close. */
  refresh(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.refreshing ??= this.runRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  // ---- InstanceDirectory

  instanceIds(): readonly string[] {
    return [...this.entries.values()].filter((e) => e.supported).map((e) => e.instance.instanceId).sort(compareIds);
  }

  platform(instanceId: string): HvInstance | undefined {
    const e = this.entries.get(instanceId);
    return e?.supported ? e.instance : undefined;
  }

  /** false until the first view of the instances (always true with HV_INSTANCES); the data path asks */
  hasView(): boolean {
    return this.viewAt !== undefined;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- status, SelectInstance, readiness

  instances(): RegisteredInstanceStatus[] {
    return [...this.entries.values()]
      .map((e) => ({ ...e.instance.status(), supported: e.supported, isDefault: e.instance.instanceId === this.defaultId }))
      .sort((a, b) => compareIds(a.id, b.id));
  }

  topology(): TopologyStatus {
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      mode: this.mode,
      discoveryUrl: this.mode === 'discovery' ? this.s.hvDiscoveryUrl : null,
      defaultInstanceId: this.defaultId ?? null,
      updatedDate: this.updatedDate ?? null,
      refreshIntervalMs: this.s.hvTopologyRefreshMs,
      lastRefreshAt: iso(this.lastRefreshAt),
      lastRefreshOkAt: iso(this.viewAt),
      lastRefreshError: this.lastRefreshError === undefined ? null : summarize(this.lastRefreshError.error, this.lastRefreshError.at),
    };
  }

  /** SelectInstance through the default instance (§3.3). */
  selectInstance(location: PreferredLocation, signal?: AbortSignal): Promise<ServiceInstance | undefined> {
    const e = this.defaultId === undefined ? undefined : this.entries.get(this.defaultId);
    if (e === undefined) return Promise.reject(this.noView('no default instance is known yet'));
    return e.instance.selectInstance(location, signal);
  }

  /**
   * What keeps the gateway from working as configured, for /readyz: no topology yet, a platform
   * that is another instance, a refused app credential. An instance that is merely unreachable is
   * not listed: notifications from the others must keep flowing (it shows in /v1/instances).
   */
  readinessProblems(): ReadinessProblem[] {
    const out: ReadinessProblem[] = [];
    if (this.viewAt === undefined) {
      const e = this.noView('the instance topology has not been discovered yet');
      out.push({ instanceId: null, code: e.code, message: e.message });
    }
    for (const { instance } of this.entries.values()) {
      for (const p of instance.problems()) out.push({ instanceId: instance.instanceId, code: p.code, message: p.message });
    }
    return out;
  }

  /** Stops the timer and background work, then closes every pool (bounded). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.stop.abort(new HvgError('HVG_ERR_INSTANCE_CLOSED', 'instance registry is closing'));
    await this.refreshing?.catch(() => undefined);
    await Promise.all([...this.entries.values()].map((e) => e.instance.close()));
    await this.discoveryClient?.close();
    this.entries.clear();
  }

  // ---- internals

  private schedule(lastOk: boolean): void {
    if (this.closed) return;
    // After a failure retry sooner (jittered, growing) but never later than the normal interval.
    const interval = this.s.hvTopologyRefreshMs;
    const delay = lastOk ? interval : Math.max(Math.min(100, interval), backoffDelay(this.failures, { baseMs: Math.min(1_000, interval), maxMs: interval }));
    this.timer = setTimeout(() => {
      void this.refresh()
        .catch((err: unknown) => {
          this.log.error({ err }, 'topology refresh crashed');
          return false;
        })
        .then((ok) => this.schedule(ok));
    }, delay);
    this.timer.unref();
  }

  private async runRefresh(): Promise<boolean> {
    const at = this.now();
    let ok = true;
    if (this.mode === 'discovery') {
      try {
        await this.discover();
        this.viewAt = at;
        this.lastRefreshError = undefined;
        this.failures = 0;
      } catch (err) {
        if (this.closed) return false;
        ok = false;
        this.failures++;
        this.lastRefreshError = { error: err, at };
        this.log.warn({ err, keptViewFrom: this.viewAt === undefined ? null : new Date(this.viewAt).toISOString() }, 'topology refresh failed; keeping the last good view');
      }
    }
    this.lastRefreshAt = at;
    await Promise.all([...this.entries.values()].map((e) => e.instance.probe(this.stop.signal)));
    return ok;
  }

  private async discover(): Promise<void> {
    const answer = await fetchTopology(this.discoveryClient!, {
      appId: this.s.hvAppId, msgTtlSeconds: this.s.hvMsgTtlSeconds, clientVersion: CLIENT_VERSION,
      updatedDate: this.updatedDate, signal: this.stop.signal, now: this.now,
    });
    if (!answer.modified) return;
    this.apply(answer.instances, answer.currentInstanceId);
    this.updatedDate = answer.updatedDate;
  }

  /** Makes the entries match the topology; notifies listeners when the supported set changed. */
  private apply(topology: readonly ServiceInstance[], currentId: string): void {
    const listed = new Map(topology.map((i) => [i.id, i]));
    const choice = chooseInstances(topology, currentId, this.s.hvInstanceFilter, this.s.hvDefaultInstanceId);
    if (choice.unknown.length > 0) this.log.warn({ instanceIds: choice.unknown }, 'HV_INSTANCE_FILTER names instances the topology does not list');
    let changed = false;
    for (const [id, entry] of this.entries) {
      const next = listed.get(id);
      if (choice.tracked.has(id) && next !== undefined && sameInstance(entry.instance.info, next)) continue;
      // gone from the topology, filtered out, or moved: the old pool and session go with it
      this.entries.delete(id);
      if (entry.supported) changed = true;
      void entry.instance.close().catch((err: unknown) => this.log.warn({ err, instanceId: id }, 'closing a replaced instance failed'));
    }
    for (const id of choice.tracked) {
      const supported = choice.supported.has(id);
      const existing = this.entries.get(id);
      if (existing === undefined) {
        this.entries.set(id, { instance: this.makeInstance(listed.get(id)!), supported });
        if (supported) changed = true;
      } else if (existing.supported !== supported) {
        existing.supported = supported;
        changed = true;
      }
    }
    this.defaultId = choice.defaultId;
    if (changed) {
      this.log.info({ instances: this.instanceIds(), defaultInstanceId: this.defaultId }, 'supported instances changed');
      for (const listener of this.listeners) {
        try {
          listener();
        } catch (err) {
          this.log.error({ err }, 'instance change listener failed');
        }
      }
    }
  }

  private makeClient(label: string, instanceId: string | undefined, url: string): PlatformClient {
    const s = this.s;
    return new PlatformClient({
      label, instanceId, platformUrl: url, logger: this.log,
      connections: s.hvPoolConnections, connectTimeoutMs: s.hvConnectTimeoutMs, requestTimeoutMs: s.hvRequestTimeoutMs,
      maxRetries: s.hvMaxRetries, retry: { baseMs: s.hvRetryBaseMs, maxMs: s.hvRetryMaxMs }, maxResponseBytes: s.hvMaxResponseBytes,
    });
  }

  private makeInstance(info: ServiceInstance): HvInstance {
    const s = this.s;
    // One pool per upstream: the default instance usually lives at the discovery URL itself.
    const shared = this.discoveryClient !== undefined && sameUrl(info.platformUrl, this.discoveryClient.url);
    return new HvInstance({
      info,
      client: shared ? this.discoveryClient! : this.makeClient(instanceLabel(info.id, info.name), info.id, info.platformUrl),
      ownsClient: !shared,
      credentials: { appId: s.hvAppId, certificate: s.hvAppCert, privateKey: s.hvAppPrivateKey },
      clientVersion: CLIENT_VERSION,
      msgTtlSeconds: s.hvMsgTtlSeconds,
      sessionTtlMs: s.hvSessionTtlSeconds * 1000,
      sessionRenewBeforeMs: s.hvSessionRenewBeforeSeconds * 1000,
      refusalHoldMs: this.o.refusalHoldMs ?? 5_000,
      logger: this.log.child({ instanceId: info.id }),
      now: this.now,
      things: { batchSize: s.hvThingsBatchSize, concurrency: s.hvThingsConcurrency },
    });
  }

  private noView(what: string): HvgError {
    const last = this.lastRefreshError === undefined ? '' : `: ${summarize(this.lastRefreshError.error, this.lastRefreshError.at).message}`;
    return new HvgError('HVG_ERR_TOPOLOGY_UNAVAILABLE', `${what} (discovery from ${this.s.hvDiscoveryUrl || 'HV_INSTANCES'}${last})`);
  }
}
