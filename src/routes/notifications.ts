// POST /notifications/{instanceId}/{name}: the only route HealthVault calls, and the only one on
// the internet. Served at the root and under the path of PUBLIC_BASE_URL (so a plain TLS proxy
// need not rewrite), with the same rules on both. The body stays raw bytes (any content type:
// the platform's is undocumented, §2.1) until the HMAC verified. 200 only after Kafka
// acknowledged every record (events, and the dead-letter record for authentic content it cannot
// read: never a 4xx for the content once the HMAC verified); Kafka trouble → 503 + Retry-After so the instance's own retry queue
// (up to ~10 days) buffers. Rate limits live in the receiver: they count only after the route
// check, verified traffic and failed authentication separately.
import { Type } from 'typebox';
import { publicAnswer } from '../notifications/answers.ts';
import { LogBudget } from '../notifications/budget.ts';
import { BodyTooLarge, readRawBody } from '../notifications/raw-body.ts';
import { gatewayPlugin } from '../plugins/gateway.ts';
import { errorResponses } from './schemas.ts';

export interface NotificationRouteOptions {
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

// no params schema on purpose: any id (empty, NUL, 10 KB) goes to the registry check and is a 404
const schema = {
  hide: true,
  response: { 200: Type.Object({ produced: Type.Optional(Type.Integer()), deadLettered: Type.Optional(Type.Integer()) }), ...errorResponses('4xx', '5xx') },
};

export default gatewayPlugin<NotificationRouteOptions>(async (app, opts) => {
  const { metrics, notificationReceiver: receiver } = app;
  // refusals are logged at warn with their detail, at most 20 lines a second: a flood cannot flood the log
  const logBudget = new LogBudget(opts.logBudget?.perWindow ?? 20, opts.logBudget?.windowMs ?? 1000);

  // raw bytes for every content type (and none), in this scope only
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => readRawBody(payload, opts.bodyLimitBytes, done));

  // The answer itself comes from the app's error handler (plugins/error-handler.ts, errorAnswers:
  // 'public'); this scope counts every refusal and logs it within the budget. onError runs
  // before that handler, for errors of the route, its hooks and the body parser alike.
  app.addHook('onError', (req, reply, err, done) => {
    const { instanceId = '', name = '' } = (req.params ?? {}) as { instanceId?: string; name?: string };
    const a = publicAnswer(err, opts);
    const instance = receiver.instanceLabel(instanceId);
    metrics.notificationsRejected.inc({ instance, reason: a.code });
    if (err instanceof BodyTooLarge && err.unread) reply.header('connection', 'close');
    const budget = logBudget.take();
    if (budget !== undefined) {
      const line = { instance, name: name.slice(0, 64), status: a.status, code: a.code, detail: a.detail ?? a.message, ...(budget.suppressed > 0 ? { suppressed: budget.suppressed } : {}) };
      if (a.status >= 500 && a.code === 'HVG_ERR_INTERNAL') req.log.error({ ...line, err }, 'notification failed');
      else req.log.warn(line, 'notification refused');
    }
    done();
  });

  for (const path of notificationPaths(opts.basePath)) {
    app.post<{ Params: { instanceId: string; name: string } }>(path, { schema, config: { errorAnswers: 'public' } }, async (req) => {
      const { instanceId, name } = req.params;
      const body = req.body;
      const r = await receiver.receive(instanceId, name, req.headers.authorization, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
      if (r.deadLettered > 0) {
        // authentic content nobody reads as an event: the operator should know (bounded like refusals)
        const budget = logBudget.take();
        if (budget !== undefined) req.log.warn({ instance: instanceId, name, reasons: r.reasons, produced: r.produced, ...(budget.suppressed > 0 ? { suppressed: budget.suppressed } : {}) }, 'notification dead-lettered');
      }
      return { produced: r.produced, deadLettered: r.deadLettered };
    });
  }
}, { name: 'hvg-routes-notifications', dependencies: ['hvg-errors', 'hvg-metrics', 'hvg-notifications'], encapsulate: true });
