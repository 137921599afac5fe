// GET /v1/status: the one call the operator console makes (src/console/), also usable with curl.
// The schema documents the answer in the OpenAPI document and, as fastify serializes through
// it, keeps anything not listed here out of the answer.
import type { FastifyPluginAsync } from 'fastify';
import { buildStatus } from '../status/status.ts';
import { readCounters, TrafficRates } from '../status/traffic-rates.ts';

const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const nint = { type: ['integer', 'null'] } as const;
const nnum = { type: ['number', 'null'] } as const;
const obj = (properties: Record<string, unknown>, description?: string) => ({ type: 'object', properties, required: Object.keys(properties), ...(description ? { description } : {}) }) as const;

const cell = obj({
  instanceId: str,
  state: { type: 'string', enum: ['in-sync', 'pending', 'error', 'missing', 'not-targeted'] },
  keyVersion: nint,
  lastSync: nstr,
  lastError: nstr,
  hvSubscriptionId: nstr,
});
const traffic = obj(
  {
    notificationsPerSecond: nnum,
    rejectionsPerSecond: nnum,
    producedPerSecond: nnum,
    produceLatencyP50Ms: nnum,
    produceLatencyP99Ms: nnum,
    totals: obj({ received: { type: 'number' }, rejected: { type: 'number' }, produced: { type: 'number' } }),
  },
  'over traffic.windowSeconds (null before a second call gives a window)',
);
const statusSchema = obj({
  generatedAt: str,
  consistent: { type: 'boolean' },
  summary: obj({ 'in-sync': { type: 'integer' }, pending: { type: 'integer' }, error: { type: 'integer' }, missing: { type: 'integer' }, foreign: { type: 'integer' } }),
  gateway: obj({ leader: { type: 'boolean' }, uptimeSeconds: { type: 'integer' }, sink: obj({ state: str, queuedRecords: { type: 'integer' }, lastError: nstr }) }),
  topology: obj({ mode: str, defaultInstanceId: nstr, lastRefreshOkAt: nstr, ageSeconds: nint, refreshIntervalMs: { type: 'integer' }, lastRefreshError: nstr }),
  traffic: obj({ windowSeconds: nnum, unknownPathRejectionsPerSecond: nnum }, 'rates are computed from samples taken by calls to this endpoint, over up to the last minute'),
  instances: {
    type: 'array',
    items: obj({
      id: str,
      name: str,
      supported: { type: 'boolean' },
      isDefault: { type: 'boolean' },
      reachable: { type: ['boolean', 'null'] },
      identity: str,
      lastError: { type: ['object', 'null'], properties: { code: str, message: str, at: str }, required: ['code', 'message', 'at'] },
      lastSuccessAt: nstr,
      session: obj({ state: str, expiresAt: nstr }),
      reconcile: obj({ lastPassAt: nstr, lastPassOk: { type: ['boolean', 'null'] }, lastError: nstr, running: { type: 'boolean' }, nextRetryAt: nstr }),
      traffic,
    }),
  },
  subscriptions: {
    type: 'array',
    items: obj({
      name: str,
      typeIds: { type: 'array', items: str },
      instances: { type: ['array', 'null'], items: str },
      keyVersion: { type: 'integer' },
      previousKeyVersion: nint,
      keyRotatedAt: nstr,
      etag: str,
      cells: { type: 'array', items: cell },
    }),
  },
  foreign: { type: 'array', items: obj({ instanceId: str, id: str, url: str, typeIds: { type: 'array', items: str } }) },
});
const errorSchema = obj({ code: str, message: str });

const statusRoute: FastifyPluginAsync = async (app) => {
  const startedAt = Date.now();
  const rates = new TrafficRates({ read: (now) => readCounters(app.metrics, now) });
  app.get(
    '/v1/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Everything the operator console shows, in one call: subscriptions × instances, foreign subscriptions, instance health and traffic',
        response: { 200: statusSchema, 401: errorSchema },
      },
      // polled every few seconds by each open console: keep it out of the info log
      logLevel: 'warn',
    },
    async () => {
      const subs = app.subscriptions;
      return buildStatus({
        view: subs.store.view,
        supportedInstances: subs.supportedInstances,
        instances: () => app.instances.instances(),
        topology: () => app.instances.topology(),
        workers: () => subs.reconciler.status(),
        leader: () => subs.leadership.isLeader(),
        sink: () => app.sink.stats(),
        traffic: () => rates.report(),
        startedAt,
      });
    },
  );
};

export default statusRoute;
