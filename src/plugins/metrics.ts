// One Prometheus registry per app (src/metrics.ts), decorated as app.metrics; HTTP request
// metrics by route pattern (never the raw URL: bounded label values); GET /metrics.
import { Histogram } from 'prom-client';
import { createMetrics, type Metrics } from '../metrics.ts';
import { gatewayPlugin } from './gateway.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export default gatewayPlugin(
  async (app) => {
    const metrics = createMetrics();
    app.decorate('metrics', metrics);
    const http = new Histogram({
      name: 'hv_gateway_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    // children bound per (method, route, status): route patterns and statuses are few
    const children = new Map<string, ReturnType<typeof http.labels>>();
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const key = `${req.method} ${reply.statusCode} ${route}`;
      let child = children.get(key);
      if (child === undefined) {
        child = http.labels({ method: req.method, route, status: String(reply.statusCode) });
        children.set(key, child);
      }
      child.observe(reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  },
  { name: 'hvg-metrics' },
);
