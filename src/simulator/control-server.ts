// The JSON control API (prefix /_sim) on its own port: what tests and developers use to create
// people and things, cause drift, read the delivery log and inject faults. Every route is a schema
// plus a thin call into the Simulator / SimInstance methods (docs/simulator.md lists them).
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { isHvgError } from '../errors.ts';
import type { DeliveryRewrite, InstanceSpec } from './sim-config.ts';
import type { PlatformFaults } from './platform-server.ts';
import type { SimQuirks } from './quirks.ts';
import type { PersonInput, ThingContent } from './record-store.ts';
import type { SimSubscriptionInput, SimSubscriptionPatch } from './sim-instance.ts';
import type { Simulator } from './simulator.ts';
import { CONTROL_SCHEMAS as schemas } from './control-schemas.ts';

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

type IdParams = { id: string };

export async function startControlServer(sim: Simulator, logger: Logger, host: string, port: number, advertisedHost: string): Promise<ControlServer> {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // Unknown fields are refused, not silently dropped (a typo in a fault name must not pass).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (isHvgError(err)) return reply.code(err.statusCode).send(err.toJSON());
    if (err.validation !== undefined || (err.statusCode !== undefined && err.statusCode < 500)) {
      return reply.code(err.statusCode ?? 400).send({ code: 'HVG_ERR_VALIDATION', message: err.message, retriable: false });
    }
    logger.error({ err }, 'control API failure');
    return reply.code(500).send({ code: 'HVG_ERR_INTERNAL', message: err.message, retriable: false });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `no control route ${req.method} ${req.url}`, retriable: false }));

  const inst = (params: IdParams) => sim.instance(params.id);
  const instanceView = (id: string) => {
    const i = sim.instance(id);
    return { ...i.info, faults: { ...i.faults } };
  };

  app.get('/_sim', async () => ({
    controlUrl: sim.controlUrl, instances: sim.instances, topologyUpdatedAt: sim.topology.updatedAt.toISOString(), deliveryRewrites: sim.deliveryRewrites,
  }));

  // ---- instances
  app.get('/_sim/instances', async () => sim.instances.map((i) => instanceView(i.id)));
  app.post<{ Body: InstanceSpec }>('/_sim/instances', { schema: { body: schemas.instance } }, async (req, reply) => {
    const info = await sim.addInstance(req.body ?? {});
    return reply.code(201).send(instanceView(info.id));
  });
  app.get<{ Params: IdParams }>('/_sim/instances/:id', async (req) => ({ ...instanceView(req.params.id), stats: inst(req.params).stats() }));
  app.get<{ Params: IdParams }>('/_sim/instances/:id/stats', async (req) => inst(req.params).stats());

  // ---- people, records, things
  app.get<{ Params: IdParams }>('/_sim/instances/:id/people', async (req) => inst(req.params).records.people());
  app.post<{ Params: IdParams; Body: PersonInput }>('/_sim/instances/:id/people', { schema: { body: schemas.person } }, async (req, reply) => {
    return reply.code(201).send(inst(req.params).createPerson(req.body ?? {}));
  });
  app.post<{ Params: IdParams & { recordId: string }; Body: ThingContent & { typeId: string; count?: number; thingId?: string } }>(
    '/_sim/instances/:id/records/:recordId/things', { schema: { body: schemas.newThing } }, async (req, reply) => {
      const instance = inst(req.params);
      const { typeId, count, ...content } = req.body;
      if (content.thingId !== undefined && (count ?? 1) !== 1) {
        return reply.code(400).send({ code: 'HVG_ERR_VALIDATION', message: 'thingId names one thing: leave count out or set it to 1', retriable: false });
      }
      const things = Array.from({ length: count ?? 1 }, () => instance.addThing(req.params.recordId, typeId, content));
      return reply.code(201).send({ ...things[0], thingIds: things.map((t) => t.thingId) });
    });
  app.get<{ Params: IdParams & { thingId: string } }>('/_sim/instances/:id/things/:thingId', async (req, reply) => {
    const thing = inst(req.params).records.getThing(req.params.thingId);
    return thing ?? reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `thing ${req.params.thingId} does not exist`, retriable: false });
  });
  app.put<{ Params: IdParams & { thingId: string }; Body: ThingContent & { typeId?: string } }>(
    '/_sim/instances/:id/things/:thingId', { schema: { body: schemas.thingUpdate } }, async (req) => inst(req.params).updateThing(req.params.thingId, req.body ?? {}));
  app.delete<{ Params: IdParams & { thingId: string } }>('/_sim/instances/:id/things/:thingId', async (req) => inst(req.params).deleteThing(req.params.thingId));

  // ---- offline access per (person, app), what GetThings checks
  type AccessParams = IdParams & { personId: string; appId: string };
  app.get<{ Params: IdParams & { personId: string } }>('/_sim/instances/:id/people/:personId/offline-access', async (req) => inst(req.params).offlineAccess(req.params.personId));
  app.put<{ Params: AccessParams; Body: { typeIds?: string[] } }>('/_sim/instances/:id/people/:personId/offline-access/:appId', { schema: { body: schemas.offlineGrant } },
    async (req) => inst(req.params).grantOfflineAccess(req.params.personId, req.params.appId, req.body?.typeIds));
  app.delete<{ Params: AccessParams }>('/_sim/instances/:id/people/:personId/offline-access/:appId',
    async (req) => inst(req.params).revokeOfflineAccess(req.params.personId, req.params.appId));

  // ---- subscriptions behind the app's back
  app.get<{ Params: IdParams }>('/_sim/instances/:id/subscriptions', async (req) => inst(req.params).listSubscriptions());
  app.post<{ Params: IdParams; Body: SimSubscriptionInput }>('/_sim/instances/:id/subscriptions', { schema: { body: schemas.newSubscription } }, async (req, reply) => {
    return reply.code(201).send(inst(req.params).createSubscription(req.body));
  });
  app.get<{ Params: IdParams & { subId: string } }>('/_sim/instances/:id/subscriptions/:subId', async (req, reply) => {
    const found = inst(req.params).listSubscriptions().find((s) => s.id === req.params.subId.toLowerCase());
    return found ?? reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `subscription ${req.params.subId} does not exist`, retriable: false });
  });
  app.patch<{ Params: IdParams & { subId: string }; Body: SimSubscriptionPatch }>(
    '/_sim/instances/:id/subscriptions/:subId', { schema: { body: schemas.subscriptionPatch } }, async (req) => inst(req.params).alterSubscription(req.params.subId, req.body));
  app.delete<{ Params: IdParams & { subId: string } }>('/_sim/instances/:id/subscriptions/:subId', async (req) => inst(req.params).deleteSubscription(req.params.subId));

  // ---- delivery log
  app.get<{ Params: IdParams; Querystring: { state?: string; subscriptionId?: string; limit?: string } }>(
    '/_sim/instances/:id/deliveries', { schema: { querystring: schemas.deliveryQuery } }, async (req) => {
      const instance = inst(req.params);
      const { limit, ...filter } = req.query;
      return {
        counts: instance.delivery.counts(),
        deliveries: instance.deliveries({ ...filter, ...(limit === undefined ? {} : { limit: Number(limit) }) }),
      };
    });
  app.get<{ Params: IdParams & { batchId: string } }>('/_sim/instances/:id/deliveries/:batchId', async (req, reply) => {
    const batch = inst(req.params).delivery.get(req.params.batchId);
    return batch ?? reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `delivery ${req.params.batchId} does not exist`, retriable: false });
  });
  app.post<{ Params: IdParams }>('/_sim/instances/:id/deliveries/retry-now', async (req) => ({ retried: inst(req.params).delivery.retryNow() }));

  // ---- faults
  app.get<{ Params: IdParams }>('/_sim/instances/:id/faults', async (req) => ({ ...inst(req.params).faults }));
  app.put<{ Params: IdParams; Body: Partial<PlatformFaults> }>('/_sim/instances/:id/faults', { schema: { body: schemas.faults } }, async (req) => {
    return inst(req.params).setFaults(req.body ?? {});
  });
  app.post<{ Params: IdParams }>('/_sim/instances/:id/expire-tokens', async (req) => ({ expired: inst(req.params).expireTokens() }));
  app.post<{ Params: IdParams }>('/_sim/instances/:id/forget-sessions', async (req) => ({ forgotten: inst(req.params).forgetSessions() }));

  // ---- quirks: behaviours of a strict platform (docs/simulator.md)
  app.get<{ Params: IdParams }>('/_sim/instances/:id/quirks', async (req) => inst(req.params).quirkView());
  app.put<{ Params: IdParams; Body: Partial<SimQuirks> }>('/_sim/instances/:id/quirks', { schema: { body: schemas.quirks } }, async (req) => inst(req.params).setQuirks(req.body ?? {}));

  // ---- delivery rewrites (https subscription URL → local http receiver, applied at POST time)
  app.get('/_sim/delivery-rewrites', async () => sim.deliveryRewrites);
  app.put<{ Body: DeliveryRewrite[] }>('/_sim/delivery-rewrites', { schema: { body: schemas.rewrites } }, async (req) => sim.setDeliveryRewrites(req.body));

  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { close: () => app.close(), url: `http://${advertisedHost.includes(':') ? `[${advertisedHost}]` : advertisedHost}:${bound}` };
}
