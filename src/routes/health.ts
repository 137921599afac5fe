// Liveness and readiness. Ready = this replica can take notifications: the Kafka producer is
// connected, the subscription store is loaded, and it is not draining. Instance problems (a
// refused certificate, a platform that is another instance, no topology yet) are reported here
// too, as warnings: they stop subscription management for that instance, not the data path of
// the others, so they must not take the replica out of rotation.
import type { FastifyPluginAsync } from 'fastify';
import { instancesReadiness } from '../instances/readiness.ts';

const healthSchema = {
  response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
} as const;

const readyBody = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
    warnings: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const health: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { ...healthSchema, hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { '2xx': readyBody, '5xx': readyBody }, hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const checks = {
      kafka: app.sink.isReady() ? 'ok' : `not ready (${app.sink.stats().state})`,
      store: app.subscriptions.store.isLoaded() ? 'ok' : 'not loaded',
      lifecycle: app.lifecycle.draining ? 'draining' : 'ok',
    };
    const instances = instancesReadiness(app.instances);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ ready, checks, warnings: { instances: instances.detail } });
  });
};

export default health;
