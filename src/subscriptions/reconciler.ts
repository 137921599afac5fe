// The control loop: per supported instance, list the actual subscriptions, diff them against the
// desired set (plan.ts) and create/update/delete to converge. It runs when a spec changes, when
// any replica asks (a `request/reconcile` store record), on an interval, at start and when a new
// instance appears — and only on the leader.
//
// Each instance has its own worker: its own concurrency bound, timeout, backoff and status, so a
// slow or dead instance never delays the others. Results are written to the store as
// observations (per instance and subscription) and an instance report, so every replica can show
// them — what to write is pure bookkeeping (observations.ts), appended in one write per pass.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { configMessage } from './config-errors.ts';
import { bounded, InstanceWorker } from './instance-worker.ts';
import { KeyDeriver, keyVersionId } from './keys.ts';
import { specsFor } from './model.ts';
import { heldRefusals, passEntries, type PassOutcome } from './observations.ts';
import { planInstance, type InstancePlan, type PlanAction } from './plan.ts';
import type { InstanceDirectory, InstancePlatform } from './platform.ts';
import type { StateKey } from './state-keys.ts';
import type { StateLog } from './state-log.ts';

export interface ReconcilerOptions {
  state: StateLog;
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

/** One instance's reconcile worker as GET /v1/consistency and /v1/status report it. */
export interface WorkerStatus {
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

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, InstanceWorker>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #offApplied: (() => void) | undefined;
  #onApplied = (_offset: number, key: StateKey) => {
    if (key.kind === 'reconcile-request') this.#forceAll(); // an operator asked (through any replica)
    if (key.kind === 'spec') this.#blocked.clear(); // a spec changed: listings refused for configuration are tried again
    if (key.kind === 'spec' || key.kind === 'reconcile-request') this.trigger();
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
    this.#offApplied = this.#o.state.view.onApplied(this.#onApplied);
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
  async dryRun(): Promise<(Omit<InstancePlan, 'known'> | { instanceId: string; error: string })[]> {
    return Promise.all(
      this.#o.directory.instanceIds().map(async (instanceId) => {
        const platform = this.#o.directory.platform(instanceId);
        if (!platform) return { instanceId, error: 'instance not available' };
        try {
          // `known` is bookkeeping for the observations, not part of the plan an operator reads
          const { known: _known, ...plan } = this.#plan(instanceId, await platform.listSubscriptions(AbortSignal.timeout(this.#o.passTimeoutMs)));
          return plan;
        } catch (err) {
          return { instanceId, error: errText(err) };
        }
      }),
    );
  }

  status(): WorkerStatus[] {
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
    this.#offApplied?.();
    this.#unsubscribe?.();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
  }

  #plan(instanceId: string, actual: Awaited<ReturnType<InstancePlatform['listSubscriptions']>>): InstancePlan {
    return planInstance({ instanceId, supportedInstances: this.#o.directory.instanceIds(), specs: this.#o.state.view.specs(), actual, publicBaseUrl: this.#o.publicBaseUrl });
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
    const view = this.#o.state.view;
    const m = this.#o.metrics;
    let actual;
    try {
      actual = await platform.listSubscriptions(signal);
      this.#blocked.delete(instanceId);
    } catch (err) {
      const status = platform.configurationRefusal(err);
      const error = status === undefined ? `cannot list subscriptions: ${errText(err)}` : configMessage(status, instanceId, 'GetEventSubscriptions', errText(err));
      if (status !== undefined) {
        this.#blocked.set(instanceId, error);
        this.#log.error({ instanceId, hvStatus: status }, error);
      }
      const finishedAt = await this.#record(instanceId, { plan: null, ids: new Map(), errors: new Map(), configErrors: new Map(), passError: error });
      return { instanceId, ok: status !== undefined, configError: status !== undefined, error, plan: [], applied: 0, finishedAt };
    }
    const planned = this.#plan(instanceId, actual);
    const held = heldRefusals(planned.actions, (name) => view.observation(instanceId, name), (name) => view.spec(name)?.revision, forced);
    const plan = held.size === 0 ? planned : { ...planned, actions: planned.actions.filter((a) => a.kind === 'delete' || !held.has(a.name)) };
    for (const a of plan.actions) m?.driftFound.inc({ instance: instanceId, kind: kindLabel(a) });
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
        } else await platform.unsubscribe(a.id, signal); // resolves when already gone too (platform.ts)
        applied++;
        m?.driftRepaired.inc({ instance: instanceId, kind: kindLabel(a) });
      } catch (err) {
        const status = a.kind === 'delete' ? undefined : platform.configurationRefusal(err);
        if (status !== undefined && a.name) {
          const what = a.kind === 'create' ? 'SubscribeToEvent' : 'UpdateEventSubscription';
          errors.set(a.name, configMessage(status, instanceId, `${what} of "${a.name}"`, errText(err)));
          configErrors.set(a.name, status);
          this.#log.error({ instanceId, name: a.name, hvStatus: status }, errors.get(a.name));
        } else if (a.name) errors.set(a.name, `${a.kind} failed: ${errText(err)}`);
      }
    });
    const error = errors.size > 0 ? [...errors.values()].join('; ') : null;
    const finishedAt = await this.#record(instanceId, { plan, ids, errors, configErrors, passError: error });
    const retriable = [...errors.keys()].some((name) => !configErrors.has(name));
    return { instanceId, ok: !retriable, error, plan: plan.actions, applied, finishedAt, ...(configErrors.size > 0 ? { configError: true } : {}) };
  }

  /** Append what the pass changed (observations, tombstones, the report) in one write; resolves with when the pass ended. */
  async #record(instanceId: string, outcome: PassOutcome): Promise<string> {
    const now = Date.now();
    const view = this.#o.state.view;
    const entries = passEntries({
      instanceId,
      // the specs as they are now (one may have changed during the pass: its next pass follows)
      desired: specsFor(view.specs(), this.#o.directory.instanceIds(), instanceId),
      previous: view.observations().filter((o) => o.instanceId === instanceId),
      previousReport: view.report(instanceId),
      outcome,
      now,
      keyRetryHorizonMs: this.#o.keyRetryHorizonMs,
    });
    await this.#o.state.append(entries).catch((err: unknown) => this.#log.warn({ err, instanceId }, 'cannot record the pass'));
    return new Date(now).toISOString();
  }
}

const kindLabel = (a: PlanAction): string => (a.kind === 'delete' ? `delete-${a.reason}` : a.kind);
