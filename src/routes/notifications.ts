// POST /notifications/{instanceId}/{name}: the only route HealthVault calls. The body stays raw
// bytes (any content type: the platform's is undocumented, §2.1) until the HMAC verified.
// 200 only after Kafka acknowledged every record; Kafka trouble → 503 + Retry-After so the
// instance's own retry queue (up to ~10 days) buffers.
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import { isHvgError } from '../errors.ts';
import type { NotificationReceiver } from '../notifications/receiver.ts';

export interface NotificationRouteOptions {
  receiver: NotificationReceiver;
  bodyLimitBytes: number;
  rateLimit: number;
  rateWindowMs: number;
  retryAfterSeconds: number;
}

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

const notifications: FastifyPluginAsync<NotificationRouteOptions> = async (app, opts) => {
  const { receiver } = opts;
  const { metrics } = app;

  // raw bytes for every content type (and none), in this scope only
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));

  await app.register(rateLimit, {
    global: false,
    // per instance: one noisy instance cannot starve the others
    keyGenerator: (req) => `instance:${(req.params as { instanceId?: string }).instanceId ?? ''}`,
    // only Retry-After on a 429: three informational headers on every 200 cost more than they tell
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'HVG_ERR_RATE_LIMITED', message: `more than ${ctx.max} notification requests in ${ctx.after} for this instance; retry later` }),
  });

  app.setErrorHandler((err, req, reply) => {
    const { instanceId = '', name = '' } = (req.params ?? {}) as { instanceId?: string; name?: string };
    const instance = receiver.instanceLabel(instanceId, name);
    const e = err as { statusCode?: number; code?: string; message: string };
    let code: string;
    let status: number;
    let message = e.message;
    if (isHvgError(err)) {
      ({ code, statusCode: status } = err);
      if (err.code === 'HVG_ERR_KAFKA_UNREACHABLE' || err.code === 'HVG_ERR_KAFKA_TIMEOUT' || err.code === 'HVG_ERR_KAFKA_PRODUCE' || err.code === 'HVG_ERR_SINK_OVERLOADED' || err.code === 'HVG_ERR_SINK_CLOSED') {
        status = 503;
        reply.header('retry-after', String(opts.retryAfterSeconds));
      }
    } else if (e.statusCode === 429 || e.code === 'HVG_ERR_RATE_LIMITED') {
      code = 'HVG_ERR_RATE_LIMITED';
      status = 429;
    } else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = 'HVG_ERR_BODY_TOO_LARGE';
      status = 413;
      message = `the body is larger than ${opts.bodyLimitBytes} bytes (NOTIFICATION_BODY_LIMIT_BYTES)`;
    } else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      code = 'HVG_ERR_BAD_REQUEST';
      status = e.statusCode;
    } else {
      req.log.error({ err }, 'notification failed');
      code = 'HVG_ERR_INTERNAL';
      status = 500;
      message = 'internal error';
    }
    metrics.notificationsRejected.inc({ instance, reason: code });
    if (status >= 500) req.log.warn({ instance, code, message }, 'notification not accepted');
    return reply.code(status).send({ code, message });
  });

  app.post<{ Params: { instanceId: string; name: string } }>(
    '/notifications/:instanceId/:name',
    {
      config: { rateLimit: { max: opts.rateLimit, timeWindow: opts.rateWindowMs } },
      schema: {
        hide: true,
        params: { type: 'object', properties: { instanceId: { type: 'string', maxLength: 255 }, name: { type: 'string', maxLength: 63 } }, required: ['instanceId', 'name'] },
        response: { 200: { type: 'object', properties: { produced: { type: 'integer' }, skipped: { type: 'integer' } } }, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (req) => {
      const { instanceId, name } = req.params;
      const body = req.body;
      return receiver.receive(instanceId, name, req.headers.authorization, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
    },
  );
};

export default notifications;
