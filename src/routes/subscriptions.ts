// Admin REST for subscriptions, reconciliation and the consistency report. Schemas on every
// route (they also feed the OpenAPI document); handlers are thin calls into the service.
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { gatewayPlugin } from '../plugins/gateway.ts';
import type { SubscriptionResource } from '../subscriptions/service.ts';
import { stateOf } from '../subscriptions/service.ts';
import { errorResponses, List, NoBody, Preconditions, Subscription, SubscriptionInput, SubscriptionName } from './schemas.ts';

const errors = errorResponses(400, 401, 404, 409, 412, 503);
const notModified = { 304: NoBody('Not Modified: If-None-Match matched the ETag') };
const flag = () => Type.Optional(Type.Boolean({ default: false }));

/**
 * The ETag of what GET answers: the spec revision (what If-Match protects, e.g. "glucose-r3")
 * plus a digest of the live per-instance status ("glucose-r3.<10 chars>"), so a conditional
 * GET that polls for in-sync gets 304 only while neither changed. Names are slugs (no "."), so
 * the two parts cannot be confused.
 */
export function representationTag(v: SubscriptionResource): string {
  const digest = createHash('sha256').update(JSON.stringify(v.instances)).digest('base64url').slice(0, 10);
  return `${v.etag.slice(0, -1)}.${digest}"`;
}

/** If-Match compares spec revisions: a tag from GET loses its status part ("glucose-r3.x" → "glucose-r3"). */
export function specTags(header: string | undefined): string | undefined {
  return header?.split(',').map((t) => t.trim().replace(/^(W\/)?"([^".]*)\.[A-Za-z0-9_-]*"$/, '$1"$2"')).join(', ');
}

/** If-None-Match on a GET (RFC 9110 §13.1.2): "*" or any listed tag, compared weakly. */
function noneMatch(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const s = t.trim();
    return s === '*' || s.replace(/^W\//, '') === tag;
  });
}

const present = (v: SubscriptionResource) => ({ ...v.spec, enrich: v.spec.enrich === true, enrichSince: v.spec.enrichSince ?? null, etag: representationTag(v), status: v.instances });
const later = (a: string | null | undefined, b: string | null | undefined): string | null => (a && b ? (Date.parse(a) >= Date.parse(b) ? a : b) : (a ?? b ?? null));

export default gatewayPlugin(async (app) => {
  const svc = () => app.subscriptions.service;
  const send = (reply: FastifyReply, v: SubscriptionResource, code = 200) => reply.code(code).header('etag', representationTag(v)).send(present(v));

  app.get('/v1/subscriptions', { schema: { tags: ['subscriptions'], summary: 'List subscriptions', response: { 200: Type.Object({ items: Type.Optional(List(Subscription)) }) } } }, async () => ({
    items: svc().list().map(present),
  }));

  app.get(
    '/v1/subscriptions/:name',
    { schema: { tags: ['subscriptions'], summary: 'One subscription with its state in every instance (If-None-Match → 304)', params: SubscriptionName, headers: Preconditions, response: { 200: Subscription, ...notModified, ...errors } } },
    async (req, reply) => {
      const v = svc().get(req.params.name);
      const tag = representationTag(v);
      if (noneMatch(req.headers['if-none-match'], tag)) return reply.code(304).header('etag', tag).send();
      return send(reply, v);
    },
  );

  app.put(
    '/v1/subscriptions/:name',
    { schema: { tags: ['subscriptions'], summary: 'Create or replace a subscription (If-Match / If-None-Match supported)', params: SubscriptionName, headers: Preconditions, body: SubscriptionInput, response: { 200: Subscription, 201: Subscription, ...errors } } },
    async (req, reply) => {
      const { view, created } = await svc().put(req.params.name, req.body, { ifMatch: specTags(req.headers['if-match']), ifNoneMatch: req.headers['if-none-match'] });
      return send(reply, view, created ? 201 : 200);
    },
  );

  app.delete('/v1/subscriptions/:name', { schema: { tags: ['subscriptions'], summary: 'Delete a subscription from every instance', params: SubscriptionName, headers: Preconditions, response: { 204: NoBody(), ...errors } } }, async (req, reply) => {
    await svc().delete(req.params.name, { ifMatch: specTags(req.headers['if-match']) });
    return reply.code(204).send();
  });

  app.post(
    '/v1/subscriptions/:name/rotate-key',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Rotate the notification key: older versions stay accepted per instance until it confirmed the new one and KEY_RETRY_HORIZON_MS passed; revokePrevious=true refuses them at once (a leaked key)',
        params: SubscriptionName, headers: Preconditions,
        querystring: Type.Object({ revokePrevious: flag() }),
        response: { 200: Subscription, ...errors },
      },
    },
    async (req, reply) => send(reply, await svc().rotateKey(req.params.name, { ifMatch: specTags(req.headers['if-match']) }, { revokePrevious: req.query.revokePrevious === true })),
  );

  app.post(
    '/v1/reconcile',
    { schema: { tags: ['reconcile'], summary: 'Run a reconcile pass now (dryRun=true: return the plan only)', querystring: Type.Object({ dryRun: flag() }) } },
    async (req, reply) => {
      const { reconciler, store, leadership } = app.subscriptions;
      if (req.query.dryRun) return { dryRun: true, plans: await reconciler.dryRun() };
      if (!reconciler.isLeader()) {
        // any replica may ask; the leader sees the request in the store and runs the pass
        await store.requestReconcile();
        return reply.code(202).send({ dryRun: false, leader: false, requested: true, memberId: leadership.memberId });
      }
      return { dryRun: false, leader: true, results: await reconciler.reconcileNow() };
    },
  );

  app.get('/v1/consistency', { schema: { tags: ['reconcile'], summary: 'Cross-instance report: every subscription in every instance, foreign subscriptions, last pass' } }, async () => {
    const { store, reconciler, leadership } = app.subscriptions;
    const view = store.view;
    const ids = app.subscriptions.supportedInstances();
    const specs = view.specs();
    // lastPassAt = when the leader last completed a pass over the instance, the same value as
    // reconciler[].lastPassAt: the leader knows it in memory; other replicas read the stored
    // report (rewritten at least every REPORT_REFRESH_MS while the leader passes)
    const own = new Map(reconciler.status().map((s) => [s.instanceId, s.lastPassAt]));
    const summary = { 'in-sync': 0, pending: 0, error: 0, missing: 0, foreign: 0 };
    const instances = ids.map((instanceId) => {
      const report = view.report(instanceId);
      const subscriptions = specs
        .filter((s) => s.instances === null || s.instances.includes(instanceId))
        .map((s) => {
          const o = view.observation(instanceId, s.name);
          const state = stateOf(s, o);
          summary[state]++;
          return { name: s.name, state, hvSubscriptionId: o?.hvSubscriptionId ?? null, lastError: o?.lastError ?? null, lastSync: o?.lastSync ?? null };
        });
      summary.foreign += report?.foreign.length ?? 0;
      return { instanceId, lastPassAt: later(report?.lastPassAt, own.get(instanceId)), lastPassOk: report?.lastPassOk ?? null, lastError: report?.lastError ?? null, subscriptions, foreign: report?.foreign ?? [] };
    });
    return { generatedAt: new Date().toISOString(), leader: leadership.isLeader(), consistent: summary.pending + summary.error + summary.missing === 0, summary, instances, reconciler: reconciler.status() };
  });
}, { name: 'hvg-routes-subscriptions', dependencies: ['hvg-errors', 'hvg-subscriptions'], encapsulate: true });
