// The gateway as one Fastify app built from plugins; this file is its dependency graph. Each
// plugin takes the settings it needs as options and everything else from the decorators of the
// plugins it names in its fastify-plugin `dependencies` (checked at registration):
//   errors, lifecycle → admin (listeners, tokens, placement) → metrics, strict-admin, openapi
//   sink → instances → subscriptions (store, leadership, reconciler; needs instances, metrics)
//   → notifications (the receiver; needs subscriptions, instances, sink, metrics) → state-metrics
//   → routes (health, admin REST, status, console, notifications), each in its own scope.
// Tests build the real app through buildApp(); server.ts only adds process concerns.
// Close order (fastify): preClose hooks (draining on, reconciler stops after its current step),
// then the server stops accepting and waits for in-flight requests (each answered after its
// Kafka ack or 503), then onClose in reverse registration order (Kafka clients, pools).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import { trimTrailingSlashes } from './config/kit.ts';
import type { Config } from './config/index.ts';
import { lazyChildLogger, loggerOptions } from './logger.ts';
import admin, { applyServerLimits, clientErrorHandler, nodeServerOptions, type HttpLimits } from './plugins/admin.ts';
import enrichmentPlugin from './plugins/enrichment.ts';
import errorHandler, { frameworkErrors } from './plugins/error-handler.ts';
import type { Gateway } from './plugins/gateway.ts';
import instancesPlugin from './plugins/instances.ts';
import lifecycle from './plugins/lifecycle.ts';
import metricsPlugin from './plugins/metrics.ts';
import notificationsPlugin from './plugins/notifications.ts';
import openapi from './plugins/openapi.ts';
import sinkPlugin from './plugins/sink.ts';
import stateMetrics from './plugins/state-metrics.ts';
import strictAdmin from './plugins/strict-admin.ts';
import subscriptionsPlugin from './plugins/subscriptions.ts';
import consoleRoutes from './routes/console.ts';
import enrichmentRoutes from './routes/enrichment.ts';
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

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<Gateway> {
  const limits: HttpLimits = {
    headersTimeoutMs: config.httpHeadersTimeoutMs, requestTimeoutMs: config.httpRequestTimeoutMs, keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    connectionTimeoutMs: config.httpConnectionTimeoutMs, maxConnections: config.httpMaxConnections,
  };
  const app = Fastify({
    // one pino instance: app.log is a pino Logger that plugins hand to Kafka and the registry
    loggerInstance: pino(loggerOptions(config.logLevel)),
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
    // the per-request child logger only when a request logs (src/logger.ts)
    childLoggerFactory: lazyChildLogger,
    // Fastify's default (true) strips fields a schema does not allow and lets the request pass;
    // the admin API refuses them instead (plugins/strict-admin.ts). Only schemas that say
    // additionalProperties: false are affected.
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Request log: admin changes at info (an audit trail), failures at warn, the rest at debug.
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'warn' : req.method !== 'GET' && req.routeOptions.url?.startsWith('/v1/') ? 'info' : 'debug';
    // req.log is the route's child (its logLevel); its type is fastify's narrower logger interface
    if (!(app.log.levels.values[level]! >= (app.log.levels.values[req.log.level] ?? Infinity))) return;
    req.log[level]({ method: req.method, url: req.url, status, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });
  applyServerLimits(app.server, limits);

  await app.register(errorHandler, { retryAfterSeconds: config.notificationRetryAfterSeconds, bodyLimitBytes: config.notificationBodyLimitBytes });
  await app.register(lifecycle);
  // before any route: it places every route registered after it on its listener (plugins/admin.ts)
  await app.register(admin, { tokens: config.adminTokens, adminPort: config.adminPort, limits, rateLimitPerMinute: config.adminRateLimit });
  await app.register(metricsPlugin);
  await app.register(strictAdmin);
  await app.register(openapi);
  await app.register(sinkPlugin, deps.sink ? { config, sink: deps.sink } : { config });
  await app.register(instancesPlugin, { settings: config, waitForFirstRefresh: deps.waitForInstances ?? false });
  await app.register(subscriptionsPlugin, { config });
  await app.register(notificationsPlugin, {
    acceptHexMac: config.notificationAcceptHexMac, deadLetterTopic: config.kafkaDeadLetterTopic,
    topicRoutes: config.kafkaTopicRoutes, deadLetterTopicRoutes: config.kafkaDeadLetterTopicRoutes,
    rateLimit: config.notificationRateLimit, authFailureLimit: config.notificationAuthFailureLimit, rateWindowMs: config.notificationRateWindowMs,
  });
  await app.register(stateMetrics);
  await app.register(enrichmentPlugin, { config });

  await app.register(health);
  await app.register(instancesRoutes);
  await app.register(subscriptionRoutes);
  await app.register(statusRoute);
  await app.register(consoleRoutes);
  await app.register(enrichmentRoutes);
  await app.register(notificationsRoute, {
    bodyLimitBytes: config.notificationBodyLimitBytes,
    retryAfterSeconds: config.notificationRetryAfterSeconds,
    basePath: trimTrailingSlashes(new URL(config.publicBaseUrl).pathname),
  });
  return app;
}
