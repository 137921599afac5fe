// The gateway as one Fastify app built from plugins in dependency order. Tests build the real
// app through buildApp(); server.ts only adds process concerns (signals, listen).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { isHvgError } from './errors.ts';
import { loggerOptions } from './logger.ts';
import lifecycle from './plugins/lifecycle.ts';
import sinkPlugin from './plugins/sink.ts';
import health from './routes/health.ts';
import type { Sink } from './sink/kafka-sink.ts';

export interface AppDeps {
  /** an already open sink (tests, benchmarks); otherwise the app opens its own */
  sink?: Sink;
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimitBytes,
    // a client that sends slowly cannot hold a socket forever
    requestTimeout: 30_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // One error shape everywhere: { code, message } with a stable code.
  app.setErrorHandler((err, req, reply) => {
    if (isHvgError(err)) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (e.validation) return reply.code(400).send({ code: 'HVG_ERR_VALIDATION', message: e.message });
    const status = e.statusCode && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ code: e.code ?? 'HVG_ERR_INTERNAL', message: status >= 500 ? 'internal error' : e.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));

  await app.register(lifecycle);
  await app.register(sinkPlugin, deps.sink ? { config, sink: deps.sink } : { config });
  await app.register(health);
  return app;
}
