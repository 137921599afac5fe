// POST /notifications/{instanceId}/{name}: the only route HealthVault calls, and the only one on
// the internet. Served at the root and under the path of PUBLIC_BASE_URL (so a plain TLS proxy
// need not rewrite), with the same rules on both. The body stays raw bytes (any content type:
// the platform's is undocumented, §2.1) until the HMAC verified. 200 only after Kafka
// acknowledged every record (events, and the dead-letter record for authentic content it cannot
// read: never a 4xx for the content once the HMAC verified); Kafka trouble → 503 + Retry-After so the instance's own retry queue
// (up to ~10 days) buffers. Rate limits live in the receiver: they count only after the route
// check, verified traffic and failed authentication separately.
import type { FastifyPluginAsync } from 'fastify';
import { publicAnswer } from '../notifications/answers.ts';
import { LogBudget } from '../notifications/budget.ts';
import { BodyTooLarge, readRawBody } from '../notifications/raw-body.ts';
import type { NotificationReceiver } from '../notifications/receiver.ts';

export interface NotificationRouteOptions {
  receiver: NotificationReceiver;
  bodyLimitBytes: number;
  retryAfterSeconds: number;
  /** path of PUBLIC_BASE_URL ('' or e.g. '/hv'): the route is served there too */
  basePath?: string;
  /** refusals logged at warn per window (default 20 per second) */
  logBudget?: { perWindow: number; windowMs: number };
}

/** Path prefixes the notification route is served under: the root, and the public base path. */
export function notificationPaths(basePath = ''): string[] {
  const base = basePath === '/' ? '' : basePath;
  return base === '' ? ['/notifications/:instanceId/:name'] : ['/notifications/:instanceId/:name', `${base}/notifications/:instanceId/:name`];
}

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

const notifications: FastifyPluginAsync<NotificationRouteOptions> = async (app, opts) => {
  const { receiver } = opts;
  const { metrics } = app;
  // refusals are logged at warn with their detail, at most 20 lines a second: a flood cannot flood the log
  const logBudget = new LogBudget(opts.logBudget?.perWindow ?? 20, opts.logBudget?.windowMs ?? 1000);

  // raw bytes for every content type (and none), in this scope only
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => readRawBody(payload, opts.bodyLimitBytes, done));

  app.setErrorHandler((err, req, reply) => {
    const { instanceId = '', name = '' } = (req.params ?? {}) as { instanceId?: string; name?: string };
    const a = publicAnswer(err, opts);
    const instance = receiver.instanceLabel(instanceId);
    metrics.notificationsRejected.inc({ instance, reason: a.code });
    if (a.retryAfterSeconds !== undefined) reply.header('retry-after', String(a.retryAfterSeconds));
    if (err instanceof BodyTooLarge && err.unread) reply.header('connection', 'close');
    const budget = logBudget.take();
    if (budget !== undefined) {
      const line = { instance, name: name.slice(0, 64), status: a.status, code: a.code, detail: a.detail ?? a.message, ...(budget.suppressed > 0 ? { suppressed: budget.suppressed } : {}) };
      if (a.status >= 500 && a.code === 'HVG_ERR_INTERNAL') req.log.error({ ...line, err }, 'notification failed');
      else req.log.warn(line, 'notification refused');
    }
    return reply.code(a.status).send({ code: a.code, message: a.message });
  });

  for (const path of notificationPaths(opts.basePath)) {
    app.post<{ Params: { instanceId: string; name: string } }>(
      path,
      {
        // no params schema on purpose: any id (empty, NUL, 10 KB) goes to the registry check and is a 404
        schema: {
          hide: true,
          response: { 200: { type: 'object', properties: { produced: { type: 'integer' }, deadLettered: { type: 'integer' } } }, '4xx': errorSchema, '5xx': errorSchema },
        },
      },
      async (req) => {
        const { instanceId, name } = req.params;
        const body = req.body;
        const r = await receiver.receive(instanceId, name, req.headers.authorization, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
        if (r.deadLettered > 0) {
          // authentic content nobody reads as an event: the operator should know (bounded like refusals)
          const budget = logBudget.take();
          if (budget !== undefined) req.log.warn({ instance: instanceId, name, reasons: r.reasons, produced: r.produced, ...(budget.suppressed > 0 ? { suppressed: budget.suppressed } : {}) }, 'notification dead-lettered');
        }
        return { produced: r.produced, deadLettered: r.deadLettered };
      },
    );
  }
};

export default notifications;
