// Liveness and readiness. Ready = the producer is connected and the process is not draining.
import type { FastifyPluginAsync } from 'fastify';

const healthSchema = {
  response: {
    200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
  },
} as const;

const readySchema = {
  response: {
    '2xx': { type: 'object', properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'string' } } } },
    '5xx': { type: 'object', properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'string' } } } },
  },
} as const;

const health: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: healthSchema, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readySchema, logLevel: 'warn' }, async (_req, reply) => {
    const kafka = app.sink.isReady() ? 'ok' : `not ready (${app.sink.stats().state})`;
    const lifecycle = app.lifecycle.draining ? 'draining' : 'ok';
    const ready = kafka === 'ok' && lifecycle === 'ok';
    return reply.code(ready ? 200 : 503).send({ ready, checks: { kafka, lifecycle } });
  });
};

export default health;
