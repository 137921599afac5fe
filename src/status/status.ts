// GET /v1/status, Fastify-free: one answer with everything the operator console shows — the
// subscriptions × instances matrix, foreign subscriptions, every instance's health and traffic,
// the sink and the leadership. Built only from what the gateway already keeps in memory (the
// store view, the instance registry, the reconciler's worker status, the sink's stats and the
// Prometheus counters); nothing here runs unless the endpoint is called.
import type { RegisteredInstanceStatus, TopologyStatus } from '../instances/instance-types.ts';
import type { SinkStats } from '../sink/sink.ts';
import { etagOf, SYNC_STATES, targetInstances } from '../subscriptions/model.ts';
import type { WorkerStatus } from '../subscriptions/reconciler.ts';
import { stateOf } from '../subscriptions/service.ts';
import type { StateView } from '../subscriptions/view.ts';
import type { InstanceTraffic, TrafficReport } from './traffic-rates.ts';

export interface StatusSources {
  view: StateView;
  supportedInstances: () => readonly string[];
  instances: () => RegisteredInstanceStatus[];
  topology: () => TopologyStatus;
  workers: () => WorkerStatus[];
  leader: () => boolean;
  sink: () => SinkStats;
  traffic: () => Promise<TrafficReport>;
  startedAt: number;
  now?: () => number;
}

/** A matrix cell; 'not-targeted' when the subscription is limited to other instances. */
export const CELL_STATES = [...SYNC_STATES, 'not-targeted'] as const;
export type CellState = (typeof CELL_STATES)[number];

const ageSeconds = (iso: string | null, now: number): number | null => (iso === null ? null : Math.max(0, Math.round((now - Date.parse(iso)) / 1000)));
const noTraffic: InstanceTraffic = { notificationsPerSecond: null, rejectionsPerSecond: null, producedPerSecond: null, produceLatencyP50Ms: null, produceLatencyP99Ms: null, totals: { received: 0, rejected: 0, produced: 0 } };

// an instance that never sent anything has no counters yet: with a window, that is 0/s
const quiet: InstanceTraffic = { ...noTraffic, notificationsPerSecond: 0, rejectionsPerSecond: 0, producedPerSecond: 0 };

export async function buildStatus(src: StatusSources) {
  const now = (src.now ?? Date.now)();
  const view = src.view;
  const supported = src.supportedInstances();
  const traffic = await src.traffic();
  const topology = src.topology();
  const workers = new Map(src.workers().map((w) => [w.instanceId, w]));

  const summary = { 'in-sync': 0, pending: 0, error: 0, missing: 0, foreign: 0 };
  const subscriptions = view.specs().map((spec) => {
    const targets = targetInstances(spec, supported);
    const cells = supported.map((instanceId) => {
      if (!targets.includes(instanceId)) return { instanceId, state: 'not-targeted' as CellState, keyVersion: null, lastSync: null, lastError: null, hvSubscriptionId: null };
      const o = view.observation(instanceId, spec.name);
      const state = stateOf(spec, o);
      summary[state]++;
      return { instanceId, state: state as CellState, keyVersion: o?.keyVersion ?? null, lastSync: o?.lastSync ?? null, lastError: o?.lastError ?? null, hvSubscriptionId: o?.hvSubscriptionId ?? null };
    });
    return {
      name: spec.name,
      typeIds: [...spec.typeIds],
      instances: spec.instances === null ? null : [...spec.instances],
      keyVersion: spec.keyVersion,
      previousKeyVersion: spec.previousKeyVersion,
      keyRotatedAt: spec.keyRotatedAt,
      etag: etagOf(spec),
      cells,
    };
  });

  const foreign = supported.flatMap((instanceId) => (view.report(instanceId)?.foreign ?? []).map((f) => ({ instanceId, id: f.id, url: f.url, typeIds: [...f.typeIds] })));
  summary.foreign = foreign.length;

  const instances = src.instances().map((i) => {
    const report = view.report(i.id);
    const w = workers.get(i.id);
    return {
      id: i.id,
      name: i.name,
      supported: i.supported,
      isDefault: i.isDefault,
      reachable: i.reachable,
      identity: i.identity,
      lastError: i.lastError === null ? null : { code: i.lastError.code, message: i.lastError.message, at: i.lastError.at },
      lastSuccessAt: i.lastSuccessAt,
      session: { state: i.session.state, expiresAt: i.session.expiresAt },
      // the store's report is written by whichever replica leads, so every replica can show it
      reconcile: {
        lastPassAt: report?.lastPassAt ?? null,
        lastPassOk: report?.lastPassOk ?? null,
        lastError: report?.lastError ?? null,
        running: w?.running ?? false,
        nextRetryAt: w?.nextRetryAt ?? null,
      },
      traffic: traffic.instances.get(i.id) ?? (traffic.windowSeconds === null ? noTraffic : quiet),
    };
  });
  const stats = src.sink();
  return {
    generatedAt: new Date(now).toISOString(),
    consistent: summary.pending + summary.error + summary.missing === 0,
    summary,
    gateway: {
      leader: src.leader(),
      uptimeSeconds: Math.round((now - src.startedAt) / 1000),
      sink: { state: stats.state, queuedRecords: stats.queuedRecords, lastError: stats.lastError },
    },
    topology: {
      mode: topology.mode,
      defaultInstanceId: topology.defaultInstanceId,
      lastRefreshOkAt: topology.lastRefreshOkAt,
      ageSeconds: ageSeconds(topology.lastRefreshOkAt, now),
      refreshIntervalMs: topology.refreshIntervalMs,
      lastRefreshError: topology.lastRefreshError?.message ?? null,
    },
    traffic: {
      windowSeconds: traffic.windowSeconds,
      // POSTs to paths that are not ours are counted under "unknown" (bounded label)
      unknownPathRejectionsPerSecond: traffic.instances.get('unknown')?.rejectionsPerSecond ?? null,
    },
    instances,
    subscriptions,
    foreign,
  };
}

export type Status = Awaited<ReturnType<typeof buildStatus>>;
