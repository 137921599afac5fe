// GET /v1/status: the one call the operator console makes (src/console/), also usable with curl.
// The schema documents the answer in the OpenAPI document and, as fastify serializes through
// it, keeps anything not listed here out of the answer.
import { Type, type TProperties } from 'typebox';
import { gatewayPlugin } from '../plugins/gateway.ts';
import { CELL_STATES, buildStatus } from '../status/status.ts';
import { readCounters, TrafficRates } from '../status/traffic-rates.ts';
import { errorResponses, Nullable, NullableInteger as nint, NullableString as nstr, StringEnum } from './schemas.ts';

const str = Type.String();
const nnum = Nullable(Type.Number());
// every property of the answer is always present
const obj = <P extends TProperties>(properties: P, description?: string) => Type.Object(properties, description === undefined ? {} : { description });

const cell = obj({
  instanceId: str,
  state: StringEnum(CELL_STATES),
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
    totals: obj({ received: Type.Number(), rejected: Type.Number(), produced: Type.Number() }),
  },
  'over traffic.windowSeconds (null before a second call gives a window)',
);
const statusSchema = obj({
  generatedAt: str,
  consistent: Type.Boolean(),
  summary: obj({ 'in-sync': Type.Integer(), pending: Type.Integer(), error: Type.Integer(), missing: Type.Integer(), foreign: Type.Integer() }),
  gateway: obj({ leader: Type.Boolean(), uptimeSeconds: Type.Integer(), sink: obj({ state: str, queuedRecords: Type.Integer(), lastError: nstr }) }),
  topology: obj({ mode: str, defaultInstanceId: nstr, lastRefreshOkAt: nstr, ageSeconds: nint, refreshIntervalMs: Type.Integer(), lastRefreshError: nstr }),
  traffic: obj({ windowSeconds: nnum, unknownPathRejectionsPerSecond: nnum }, 'rates are computed from samples taken by calls to this endpoint, over up to the last minute'),
  instances: Type.Array(
    obj({
      id: str,
      name: str,
      supported: Type.Boolean(),
      isDefault: Type.Boolean(),
      reachable: Nullable(Type.Boolean()),
      identity: str,
      lastError: Nullable(obj({ code: str, message: str, at: str })),
      lastSuccessAt: nstr,
      session: obj({ state: str, expiresAt: nstr }),
      reconcile: obj({ lastPassAt: nstr, lastPassOk: Nullable(Type.Boolean()), lastError: nstr, running: Type.Boolean(), nextRetryAt: nstr }),
      traffic,
    }),
  ),
  subscriptions: Type.Array(
    obj({
      name: str,
      typeIds: Type.Array(str),
      instances: Type.Unsafe<readonly string[] | null>({ type: ['array', 'null'], items: str }),
      keyVersion: Type.Integer(),
      previousKeyVersion: nint,
      keyRotatedAt: nstr,
      etag: str,
      cells: Type.Array(cell),
    }),
  ),
  foreign: Type.Array(obj({ instanceId: str, id: str, url: str, typeIds: Type.Array(str) })),
});

export default gatewayPlugin(async (app) => {
  const startedAt = Date.now();
  const rates = new TrafficRates({ read: (now) => readCounters(app.metrics, now) });
  app.get(
    '/v1/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Everything the operator console shows, in one call: subscriptions × instances, foreign subscriptions, instance health and traffic',
        response: { 200: statusSchema, ...errorResponses(401) },
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
}, { name: 'hvg-routes-status', dependencies: ['hvg-metrics', 'hvg-subscriptions', 'hvg-instances', 'hvg-sink'], encapsulate: true });
