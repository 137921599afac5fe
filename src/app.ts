// The gateway as one Fastify app built from plugins in dependency order. Tests build the real
// app through buildApp(); server.ts only adds process concerns (signals, listen).
//   lifecycle → admin (listeners, tokens) → metrics → OpenAPI → Kafka sink → instances → subscriptions
//   (store, leadership, reconciler) → routes (health, admin REST, notifications)
// Close order (fastify): preClose hooks (draining on, reconciler stops after its current step),
// then the server stops accepting and waits for in-flight requests (each answered after its
// Kafka ack or 503), then onClose in reverse registration order (Kafka clients, pools).
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { trimTrailingSlashes } from './config/kit.ts';
import type { Config } from './config/index.ts';
import { isHvgError } from './errors.ts';
import { loggerOptions } from './logger.ts';
import { NotificationReceiver } from './notifications/receiver.ts';
import admin, { applyServerLimits, clientErrorHandler, nodeServerOptions, type HttpLimits } from './plugins/admin.ts';
import instancesPlugin from './plugins/instances.ts';
import lifecycle from './plugins/lifecycle.ts';
import metricsPlugin from './plugins/metrics.ts';
import openapi from './plugins/openapi.ts';
import sinkPlugin from './plugins/sink.ts';
import stateMetrics from './plugins/state-metrics.ts';
import strictAdmin, { validationMessage } from './plugins/strict-admin.ts';
import subscriptionsPlugin from './plugins/subscriptions.ts';
import consoleRoutes from './routes/console.ts';
import health from './routes/health.ts';
import instancesRoutes from './routes/instances.ts';
import notificationsRoute from './routes/notifications.ts';
import statusRoute from './routes/status.ts';
import subscriptionRoutes from './routes/subscriptions.ts';
import type { Sink } from './sink/sink.ts';

export interface AppDeps {
  /** an already open sink (tests, benchmarks); otherwise the app opens its own */
  sink?: Sink;
  /** wait for the first instance discovery before resolving (tests) */
  waitForInstances?: boolean;
}

/** The router's own refusals (a URL that does not decode, a path parameter over 100 characters) in our error shape. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  void reply.code(status).send({ code: 'HVG_ERR_BAD_REQUEST', message: `the request was refused: ${err.message}` });
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const limits: HttpLimits = {
    headersTimeoutMs: config.httpHeadersTimeoutMs, requestTimeoutMs: config.httpRequestTimeoutMs, keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    connectionTimeoutMs: config.httpConnectionTimeoutMs, maxConnections: config.httpMaxConnections,
  };
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimitBytes,
    // a client that sends slowly or sits idle cannot hold a socket for long (HTTP_* settings)
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    http: nodeServerOptions(limits),
    frameworkErrors,
    clientErrorHandler,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The Kafka plugins bound their own start by KAFKA_CONNECT_TIMEOUT_MS (the sink, then the
    // store, then leadership); fastify's default 10 s would cut a start that is still riding
    // through a booting broker, and below the 15 s default of that setting.
    pluginTimeout: 3 * config.kafkaConnectTimeoutMs + 30_000,
    // Two info lines per notification cost more CPU than verifying it; see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify's default (true) strips fields a schema does not allow and lets the request pass;
    // the admin API refuses them instead (plugins/strict-admin.ts). Only schemas that say
    // additionalProperties: false are affected.
    ajv: { customOptions: { removeAdditional: false } },
  });

  // Request log: admin changes at info (an audit trail), failures at warn, the rest at debug.
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'warn' : req.method !== 'GET' && req.routeOptions.url?.startsWith('/v1/') ? 'info' : 'debug';
    if (!(req.log as unknown as Logger).isLevelEnabled(level)) return;
    req.log[level]({ method: req.method, url: req.url, status, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });

  // One error shape everywhere: { code, message } with a stable code.
  app.setErrorHandler((err, req, reply) => {
    if (isHvgError(err)) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (e.validation) return reply.code(400).send({ code: 'HVG_ERR_VALIDATION', message: validationMessage(req, e as Parameters<typeof validationMessage>[1]) });
    const status = e.statusCode && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ code: status >= 500 ? 'HVG_ERR_INTERNAL' : 'HVG_ERR_BAD_REQUEST', message: status >= 500 ? 'internal error' : e.message });
  });
  applyServerLimits(app.server, limits);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const logger = app.log as unknown as Logger;
  await app.register(lifecycle);
  // first: it places every route registered after it on its listener (plugins/admin.ts)
  await app.register(admin, { tokens: config.adminTokens, adminPort: config.adminPort, limits, rateLimitPerMinute: config.adminRateLimit });
  await app.register(metricsPlugin);
  await app.register(strictAdmin);
  await app.register(openapi);
  await app.register(sinkPlugin, deps.sink ? { config, sink: deps.sink } : { config });
  await app.register(instancesPlugin, { settings: config, logger, waitForFirstRefresh: deps.waitForInstances ?? false });
  await app.register(subscriptionsPlugin, { config, directory: app.instances, metrics: app.metrics });
  await app.register(stateMetrics);

  await app.register(health);
  await app.register(instancesRoutes);
  await app.register(subscriptionRoutes);
  await app.register(statusRoute);
  await app.register(consoleRoutes);
  const receiver = new NotificationReceiver({
    view: app.subscriptions.store.view, instances: app.instances, keys: app.subscriptions.keys, sink: app.sink, metrics: app.metrics,
    acceptHexMac: config.notificationAcceptHexMac,
    rateLimit: config.notificationRateLimit, authFailureLimit: config.notificationAuthFailureLimit, rateWindowMs: config.notificationRateWindowMs,
    deadLetterTopic: config.kafkaDeadLetterTopic,
  });
  app.decorate('notificationReceiver', receiver);
  await app.register(notificationsRoute, {
    receiver,
    bodyLimitBytes: config.notificationBodyLimitBytes,
    retryAfterSeconds: config.notificationRetryAfterSeconds,
    basePath: trimTrailingSlashes(new URL(config.publicBaseUrl).pathname),
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** the data path; tests read its state sizes */
    notificationReceiver: NotificationReceiver;
  }
}
