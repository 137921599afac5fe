// The control loop: per supported instance, list the actual subscriptions, diff them against the
// desired set (plan.ts) and create/update/delete to converge. It runs when a spec changes, when
// any replica asks (a `request/reconcile` store record), on an interval, at start and when a new
// instance appears — and only on the leader.
//
// Each instance has its own worker: its own concurrency bound, timeout, backoff and status, so a
// slow or dead instance never delays the others. Results are written to the store as
// observations (per instance and subscription) and an instance report, so every replica can show
// them. Observations are rewritten only when something changed (or they grew stale), which keeps
// a restart or an idle interval from churning the store; the instance report also when its
// lastPassAt is REPORT_REFRESH_MS old (the leader itself reports its in-memory lastPassAt).
import type { Logger } from 'pino';
import { HV_STATUS_SUBSCRIPTION_NOT_FOUND } from '../healthvault/index.ts';
import type { Metrics } from '../metrics.ts';
import { configMessage, configStatus } from './config-errors.ts';
import { nextConfirmations } from './key-acceptance.ts';
import { KeyDeriver, keyVersionId } from './keys.ts';
import { targetInstances, type InstanceObservation, type InstanceReport } from './model.ts';
import { callbackUrl, planInstance, type InstancePlan, type PlanAction } from './plan.ts';
import type { InstanceDirectory, InstancePlatform } from './platform.ts';
import type { SubscriptionStore } from './store.ts';
import { sameUrl } from './url.ts';
import { bounded, InstanceWorker } from './instance-worker.ts';

export interface ReconcilerOptions {
  store: SubscriptionStore;
  directory: InstanceDirectory;
  keys: KeyDeriver;
  publicBaseUrl: string;
  /** KEY_RETRY_HORIZON_MS: how long older keys stay accepted after an instance confirmed a newer one */
  keyRetryHorizonMs: number;
  intervalMs: number;
  /** platform calls in flight per instance */
  concurrency: number;
  /** bound on one instance pass */
  passTimeoutMs: number;
  isLeader: () => boolean;
  logger: Logger;
  metrics?: Metrics;
}

export interface InstanceStatus {
  instanceId: string;
  running: boolean;
  consecutiveFailures: number;
  lastPassAt: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
}

export interface PassResult {
  instanceId: string;
  /** false only for failures a retry may fix (configuration refusals are reported, not retried) */
  ok: boolean;
  error: string | null;
  /** a configuration refusal (133/11/134) was reported or is still blocking */
  configError?: boolean;
  plan: readonly PlanAction[];
  applied: number;
  /** when the pass ended: the lastPassAt of the reconciler's status and of the stored instance report */
  finishedAt: string;
}

const STALE_OBSERVATION_MS = 5 * 60_000;
/**
 * The instance report (lastPassAt for replicas that do not lead) is rewritten when anything in
 * it changed, and otherwise at most this often: bounded store traffic however short the
 * interval, at the price of a follower's lastPassAt lagging by up to this much.
 */
export const REPORT_REFRESH_MS = 60_000;
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, InstanceWorker>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #onApplied = (_offset: number, key: string) => {
    if (key === 'request/reconcile') this.#forceAll(); // an operator asked (through any replica)
    if (key.startsWith('spec/')) this.#blocked.clear(); // a spec changed: listings refused for configuration are tried again
    if (key.startsWith('spec/') || key === 'request/reconcile') this.trigger();
  };
  /** instances whose next pass retries configuration refusals (an operator asked) */
  readonly #force = new Set<string>();
  /** instances blocked by a configuration refusal of the listing itself (status 11): message */
  readonly #blocked = new Map<string, string>();
  #stopped = true;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'reconciler' });
  }

  get intervalMs(): number {
    return this.#o.intervalMs;
  }

  isLeader(): boolean {
    return !this.#stopped && this.#o.isLeader();
  }

  start(): void {
    this.#stopped = false;
    this.#o.store.view.on('applied', this.#onApplied);
    this.#unsubscribe = this.#o.directory.onChange(() => this.trigger());
    this.#arm();
    this.trigger();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.trigger();
      this.#arm();
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  #worker(id: string): InstanceWorker {
    let w = this.#workers.get(id);
    if (!w) {
      w = new InstanceWorker(id, this);
      this.#workers.set(id, w);
    }
    return w;
  }

  /** Start passes for every supported instance (no-op unless this replica leads). */
  trigger(): void {
    if (!this.isLeader()) return;
    for (const id of this.#o.directory.instanceIds()) void this.#worker(id).request().catch(() => {});
  }

  #forceAll(): void {
    for (const id of this.#o.directory.instanceIds()) this.#force.add(id);
  }

  /** Run a pass over every instance now and wait for the results (leader only); retries configuration refusals. */
  async reconcileNow(): Promise<PassResult[]> {
    this.#forceAll();
    return Promise.all(this.#o.directory.instanceIds().map((id) => this.#worker(id).request()));
  }

  /** The plan per instance without applying it (read-only: any replica may do it). */
  async dryRun(): Promise<(InstancePlan | { instanceId: string; error: string })[]> {
    return Promise.all(
      this.#o.directory.instanceIds().map(async (instanceId) => {
        const platform = this.#o.directory.platform(instanceId);
        if (!platform) return { instanceId, error: 'instance not available' };
        try {
          return this.#plan(instanceId, await platform.listSubscriptions(AbortSignal.timeout(this.#o.passTimeoutMs)));
        } catch (err) {
          return { instanceId, error: errText(err) };
        }
      }),
    );
  }

  status(): InstanceStatus[] {
    return this.#o.directory.instanceIds().map((id) => {
      const w = this.#workers.get(id);
      return {
        instanceId: id,
        running: w?.running ?? false,
        consecutiveFailures: w?.failures ?? 0,
        lastPassAt: w?.lastPassAt ?? null,
        lastError: w?.lastError ?? null,
        nextRetryAt: w?.nextRetryAt ? new Date(w.nextRetryAt).toISOString() : null,
      };
    });
  }

  /** Stop after the current step of every pass (called in preClose). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#o.store.view.off('applied', this.#onApplied);
    this.#unsubscribe?.();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
  }

  #plan(instanceId: string, actual: Awaited<ReturnType<InstancePlatform['listSubscriptions']>>): InstancePlan {
    return planInstance({ instanceId, supportedInstances: this.#o.directory.instanceIds(), specs: this.#o.store.view.specs(), actual, publicBaseUrl: this.#o.publicBaseUrl });
  }

  /** One pass over one instance. Never throws: failures are results (and observations). */
  async pass(instanceId: string, stopSignal: AbortSignal): Promise<PassResult> {
    const m = this.#o.metrics;
    const endTimer = m?.reconcileDuration.startTimer({ instance: instanceId });
    const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(this.#o.passTimeoutMs)]);
    const platform = this.#o.directory.platform(instanceId);
    const forced = this.#force.delete(instanceId);
    const blocked = this.#blocked.get(instanceId);
    const skip = blocked !== undefined && !forced;
    let result: PassResult;
    if (skip) result = { instanceId, ok: true, configError: true, error: blocked, plan: [], applied: 0, finishedAt: new Date().toISOString() };
    else result = platform ? await this.#pass(platform, signal, forced) : { instanceId, ok: false, error: 'instance not available', plan: [], applied: 0, finishedAt: new Date().toISOString() };
    endTimer?.();
    m?.reconcilePasses.inc({ instance: instanceId, result: skip ? 'blocked' : result.ok ? 'ok' : 'error' });
    if (!result.ok) this.#log.warn({ instanceId, error: result.error }, 'reconcile pass failed');
    return result;
  }

  async #pass(platform: InstancePlatform, signal: AbortSignal, forced: boolean): Promise<PassResult> {
    const { instanceId } = platform;
    const view = this.#o.store.view;
    const m = this.#o.metrics;
    let actual;
    try {
      actual = await platform.listSubscriptions(signal);
      this.#blocked.delete(instanceId);
    } catch (err) {
      const status = configStatus(err);
      const error = status === undefined ? `cannot list subscriptions: ${errText(err)}` : configMessage(status, instanceId, 'GetEventSubscriptions', errText(err));
      if (status !== undefined) {
        this.#blocked.set(instanceId, error);
        this.#log.error({ instanceId, hvStatus: status }, error);
      }
      const finishedAt = new Date().toISOString();
      await this.#record(instanceId, finishedAt, null, new Map(), new Map(), error).catch(() => {});
      return { instanceId, ok: status !== undefined, configError: status !== undefined, error, plan: [], applied: 0, finishedAt };
    }
    const planned = this.#plan(instanceId, actual);
    // creates/updates refused for a configuration reason at this spec revision wait for a change or an operator
    const held = new Map<string, InstanceObservation>();
    for (const a of planned.actions) {
      const o = a.kind === 'delete' || forced ? undefined : view.observation(instanceId, a.name);
      if (o?.configError != null && o.configError.specRevision === view.spec(o.name)?.revision) held.set(o.name, o);
    }
    const plan = held.size === 0 ? planned : { ...planned, actions: planned.actions.filter((a) => a.kind === 'delete' || !held.has(a.name)) };
    for (const a of plan.actions) m?.driftFound.inc({ instance: instanceId, kind: a.kind === 'delete' ? `delete-${a.reason}` : a.kind });
    if (plan.actions.length > 0) this.#log.info({ instanceId, actions: plan.actions.map((a) => ({ kind: a.kind, name: a.name })) }, 'drift found');

    const ids = new Map<string, string>(Object.entries(plan.inSync));
    const errors = new Map<string, string>();
    const configErrors = new Map<string, number>();
    for (const o of held.values()) {
      errors.set(o.name, o.lastError ?? 'configuration refusal');
      configErrors.set(o.name, o.configError!.hvStatus);
    }
    let applied = 0;
    await bounded(plan.actions, this.#o.concurrency, async (a) => {
      if (signal.aborted || !this.#o.isLeader()) return;
      try {
        if (a.kind === 'create' || a.kind === 'update') {
          const write = { url: a.url, typeIds: a.typeIds, keyVersionId: keyVersionId(a.keyVersion), key: this.#o.keys.key(instanceId, a.name, a.keyVersion) };
          if (a.kind === 'create') ids.set(a.name, await platform.subscribe(write, signal));
          else {
            await platform.update(a.id, write, signal);
            ids.set(a.name, a.id);
          }
        } else {
          // already gone (deleted meanwhile, or a retried call whose first attempt landed): converged
          await platform.unsubscribe(a.id, signal).catch((err: unknown) => {
            if ((err as { details?: { hvStatus?: unknown } }).details?.hvStatus !== HV_STATUS_SUBSCRIPTION_NOT_FOUND) throw err;
          });
        }
        applied++;
        m?.driftRepaired.inc({ instance: instanceId, kind: a.kind === 'delete' ? `delete-${a.reason}` : a.kind });
      } catch (err) {
        const status = a.kind === 'delete' ? undefined : configStatus(err);
        if (status !== undefined && a.name) {
          const what = a.kind === 'create' ? 'SubscribeToEvent' : 'UpdateEventSubscription';
          errors.set(a.name, configMessage(status, instanceId, `${what} of "${a.name}"`, errText(err)));
          configErrors.set(a.name, status);
          this.#log.error({ instanceId, name: a.name, hvStatus: status }, errors.get(a.name));
        } else if (a.name) errors.set(a.name, `${a.kind} failed: ${errText(err)}`);
      }
    });
    const known = new Map<string, string[]>();
    for (const a of actual) {
      for (const spec of view.specs()) {
        if (a.unreadable === undefined && sameUrl(a.url, callbackUrl(this.#o.publicBaseUrl, instanceId, spec.name))) known.set(spec.name, [...(known.get(spec.name) ?? []), a.id]);
      }
    }
    const error = errors.size > 0 ? [...errors.values()].join('; ') : null;
    const finishedAt = new Date().toISOString();
    await this.#record(instanceId, finishedAt, plan, ids, errors, error, known, configErrors).catch((err: unknown) => this.#log.warn({ err, instanceId }, 'cannot record the pass'));
    const retriable = [...errors.keys()].some((name) => !configErrors.has(name));
    return { instanceId, ok: !retriable, error, plan: plan.actions, applied, finishedAt, ...(configErrors.size > 0 ? { configError: true } : {}) };
  }

  /** Write observations and the instance report where they changed. */
  async #record(instanceId: string, now: string, plan: InstancePlan | null, ids: Map<string, string>, errors: Map<string, string>, passError: string | null, known = new Map<string, string[]>(), configErrors = new Map<string, number>()): Promise<void> {
    const { store } = this.#o;
    const view = store.view;
    const desired = view.specs().filter((s) => targetInstances(s, this.#o.directory.instanceIds()).includes(instanceId));
    for (const spec of desired) {
      const prev = view.observation(instanceId, spec.name);
      const err = plan === null ? passError : (errors.get(spec.name) ?? null);
      const id = ids.get(spec.name) ?? prev?.hvSubscriptionId ?? null;
      const confirmed = err === null && id !== null; // the instance now holds spec.keyVersion
      const next: InstanceObservation = {
        instanceId,
        name: spec.name,
        hvSubscriptionId: id,
        knownIds: [...new Set([...(known.get(spec.name) ?? prev?.knownIds ?? []), ...(id ? [id] : [])])].sort(),
        state: err !== null ? 'error' : id !== null ? 'in-sync' : 'missing',
        keyVersion: confirmed ? spec.keyVersion : (prev?.keyVersion ?? null),
        ...nextConfirmations(spec, prev, confirmed, this.#o.keyRetryHorizonMs, Date.now()),
        specRevision: err === null ? spec.revision : (prev?.specRevision ?? 0),
        lastError: err,
        lastSync: err === null ? now : (prev?.lastSync ?? null),
        configError: configErrors.has(spec.name) ? { hvStatus: configErrors.get(spec.name)!, specRevision: spec.revision } : null,
      };
      if (!prev || changed(prev, next) || (err === null && Date.parse(prev.lastSync ?? '0') < Date.now() - STALE_OBSERVATION_MS)) await store.writeObservation(next);
    }
    if (plan !== null) {
      const wanted = new Set(desired.map((s) => s.name));
      for (const o of view.observations()) if (o.instanceId === instanceId && !wanted.has(o.name)) await store.deleteObservation(instanceId, o.name);
    }
    const prevReport = view.report(instanceId);
    const report: InstanceReport = {
      instanceId,
      lastPassAt: now,
      lastPassOk: passError === null,
      lastError: passError,
      foreign: plan ? plan.foreign.map((f) => ({ id: f.id, url: f.url, typeIds: f.typeIds, ...(f.unreadable === undefined ? {} : { unreadable: f.unreadable }) })) : (prevReport?.foreign ?? []),
    };
    if (!prevReport || JSON.stringify({ ...prevReport, lastPassAt: 0 }) !== JSON.stringify({ ...report, lastPassAt: 0 }) || Date.parse(prevReport.lastPassAt ?? '0') <= Date.parse(now) - REPORT_REFRESH_MS) {
      await store.writeReport(report);
    }
  }
}

function changed(a: InstanceObservation, b: InstanceObservation): boolean {
  return JSON.stringify({ ...a, lastSync: null }) !== JSON.stringify({ ...b, lastSync: null });
}
