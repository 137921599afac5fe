// GET /v1/enrichment: the enrichment stage of this replica — whether it runs (it does while some
// subscription has enrich: true), per instance: events waiting, things written by kind, errors by
// status, the instance's gate (in flight, backoff); the events partitions assigned to this
// replica and, per events topic, the lag of those partitions. The same numbers are Prometheus metrics (hv_gateway_enrichment_*).
import type { FastifyPluginAsync } from 'fastify';

const routes: FastifyPluginAsync = async (app) => {
  app.get('/v1/enrichment', { schema: { tags: ['enrichment'], summary: 'Enrichment stage of this replica: state, per-instance lag, things written, errors by status' } }, async () => {
    const c = app.enrichment;
    const s = c.stage?.status();
    return {
      state: c.state,
      enrichedSubscriptions: app.subscriptions.store.view.specs().filter((x) => x.enrich === true).map((x) => x.name),
      lastStartError: c.lastStartError,
      groupId: s?.groupId ?? null,
      eventsTopics: s?.eventsTopics ?? [],
      thingsTopics: s?.thingsTopics ?? [],
      assignment: s?.assignment ?? {},
      lastError: s?.lastError ?? null,
      topicLag: s?.topicLag ?? {},
      instances: s?.instances ?? [],
    };
  });
};

export default routes;
