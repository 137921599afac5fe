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
import { KeyDeriver, keyVersionId } from './keys.ts';
import { targetInstances, type InstanceObservation, type InstanceReport } from './model.ts';
import { callbackUrl, planInstance, type InstancePlan, type PlanAction } from './plan.ts';
import type { InstanceDirectory, InstancePlatform } from './platform.ts';
import type { SubscriptionStore } from './store.ts';

export interface ReconcilerOptions {
  store: SubscriptionStore;
  directory: InstanceDirectory;
  keys: KeyDeriver;
  publicBaseUrl: string;
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
  ok: boolean;
  error: string | null;
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

/** Run `fn` over `items` with at most `limit` in flight. */
async function bounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

class InstanceWorker {
  readonly id: string;
  readonly #r: Reconciler;
  #running: Promise<PassResult> | null = null;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #abort = new AbortController();
  failures = 0;
  lastPassAt: string | null = null;
  lastError: string | null = null;
  nextRetryAt: number | null = null;

  constructor(id: string, r: Reconciler) {
    this.id = id;
    this.#r = r;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /** Ask for a pass; coalesces with one already running. Resolves with the pass that covers the request. */
  request(): Promise<PassResult> {
    if (this.#running) {
      this.#dirty = true; // the running loop makes one more pass, which covers this request
      return this.#running;
    }
    clearTimeout(this.#timer);
    this.nextRetryAt = null;
    this.#running = this.#loop().finally(() => (this.#running = null));
    return this.#running;
  }

  async #loop(): Promise<PassResult> {
    let result: PassResult;
    do {
      this.#dirty = false;
      result = await this.#r.pass(this.id, this.#abort.signal);
      this.lastPassAt = result.finishedAt;
      if (result.ok) {
        this.failures = 0;
        this.lastError = null;
      } else {
        this.failures++;
        this.lastError = result.error;
        // jittered exponential backoff for this instance only
        const base = Math.min(this.#r.intervalMs, 1000 * 2 ** Math.min(this.failures, 8));
        const delay = base / 2 + Math.random() * (base / 2);
        this.nextRetryAt = Date.now() + delay;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.request().catch(() => {}), delay);
        this.#timer.unref();
        break;
      }
    } while (this.#dirty && this.#r.isLeader());
    return result;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('reconciler stopping'));
    await this.#running?.catch(() => {});
    this.#abort = new AbortController();
  }
}

export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, InstanceWorker>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #onApplied = (_offset: number, key: string) => {
    if (key.startsWith('spec/') || key === 'request/reconcile') this.trigger();
  };
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

  /** Run a pass over every instance now and wait for the results (leader only). */
  async reconcileNow(): Promise<PassResult[]> {
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
    const result = platform ? await this.#pass(platform, signal) : { instanceId, ok: false, error: 'instance not available', plan: [], applied: 0, finishedAt: new Date().toISOString() };
    endTimer?.();
    m?.reconcilePasses.inc({ instance: instanceId, result: result.ok ? 'ok' : 'error' });
    if (!result.ok) this.#log.warn({ instanceId, error: result.error }, 'reconcile pass failed');
    return result;
  }

  async #pass(platform: InstancePlatform, signal: AbortSignal): Promise<PassResult> {
    const { instanceId } = platform;
    const view = this.#o.store.view;
    const m = this.#o.metrics;
    let actual;
    try {
      actual = await platform.listSubscriptions(signal);
    } catch (err) {
      const error = `cannot list subscriptions: ${errText(err)}`;
      const finishedAt = new Date().toISOString();
      await this.#record(instanceId, finishedAt, null, new Map(), new Map(), error).catch(() => {});
      return { instanceId, ok: false, error, plan: [], applied: 0, finishedAt };
    }
    const plan = this.#plan(instanceId, actual);
    for (const a of plan.actions) m?.driftFound.inc({ instance: instanceId, kind: a.kind === 'delete' ? `delete-${a.reason}` : a.kind });
    if (plan.actions.length > 0) this.#log.info({ instanceId, actions: plan.actions.map((a) => ({ kind: a.kind, name: a.name })) }, 'drift found');

    const ids = new Map<string, string>(Object.entries(plan.inSync));
    const errors = new Map<string, string>();
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
        if (a.name) errors.set(a.name, `${a.kind} failed: ${errText(err)}`);
      }
    });
    const known = new Map<string, string[]>();
    for (const a of actual) {
      for (const spec of view.specs()) {
        if (a.url === callbackUrl(this.#o.publicBaseUrl, instanceId, spec.name)) known.set(spec.name, [...(known.get(spec.name) ?? []), a.id]);
      }
    }
    const error = errors.size > 0 ? [...errors.values()].join('; ') : null;
    const finishedAt = new Date().toISOString();
    await this.#record(instanceId, finishedAt, plan, ids, errors, error, known).catch((err: unknown) => this.#log.warn({ err, instanceId }, 'cannot record the pass'));
    return { instanceId, ok: error === null, error, plan: plan.actions, applied, finishedAt };
  }

  /** Write observations and the instance report where they changed. */
  async #record(instanceId: string, now: string, plan: InstancePlan | null, ids: Map<string, string>, errors: Map<string, string>, passError: string | null, known = new Map<string, string[]>()): Promise<void> {
    const { store } = this.#o;
    const view = store.view;
    const desired = view.specs().filter((s) => targetInstances(s, this.#o.directory.instanceIds()).includes(instanceId));
    for (const spec of desired) {
      const prev = view.observation(instanceId, spec.name);
      const err = plan === null ? passError : (errors.get(spec.name) ?? null);
      const id = ids.get(spec.name) ?? prev?.hvSubscriptionId ?? null;
      const next: InstanceObservation = {
        instanceId,
        name: spec.name,
        hvSubscriptionId: id,
        knownIds: [...new Set([...(known.get(spec.name) ?? prev?.knownIds ?? []), ...(id ? [id] : [])])].sort(),
        state: err !== null ? 'error' : id !== null ? 'in-sync' : 'missing',
        keyVersion: err === null && id !== null ? spec.keyVersion : (prev?.keyVersion ?? null),
        specRevision: err === null ? spec.revision : (prev?.specRevision ?? 0),
        lastError: err,
        lastSync: err === null ? now : (prev?.lastSync ?? null),
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
      foreign: plan ? plan.foreign.map((f) => ({ id: f.id, url: f.url, typeIds: f.typeIds })) : (prevReport?.foreign ?? []),
    };
    if (!prevReport || JSON.stringify({ ...prevReport, lastPassAt: 0 }) !== JSON.stringify({ ...report, lastPassAt: 0 }) || Date.parse(prevReport.lastPassAt ?? '0') <= Date.parse(now) - REPORT_REFRESH_MS) {
      await store.writeReport(report);
    }
  }
}

function changed(a: InstanceObservation, b: InstanceObservation): boolean {
  return JSON.stringify({ ...a, lastSync: null }) !== JSON.stringify({ ...b, lastSync: null });
}
