// Which listener serves what, and the admin token. Operational endpoints are not public: by
// default the admin API (/v1/*, /openapi.json) and /metrics live on a listener of their own
// (ADMIN_PORT, 9090; 0 = a free port chosen at start), the notification route only on PORT,
// /healthz and /readyz on both. ADMIN_PORT=shared serves everything on PORT; /metrics then needs
// the admin token too. Tokens are compared in constant time.
//
// routePlacement() below is the one place that decides it; a new route that is not listed lands
// on the admin listener behind the token (the safe default).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type Server, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { AdminPort } from '../config/admin.ts';
import { HvgError } from '../errors.ts';
import type { Gateway } from './gateway.ts';

export interface RoutePlacement {
  /** the listener(s) that serve the route; with ADMIN_PORT=shared there is only one */
  readonly listener: 'public' | 'admin' | 'both';
  /** when an admin bearer token is required */
  readonly token: 'always' | 'never' | 'when-shared';
}

/** The placement of a route by its pattern (as registered, prefix included). */
export function routePlacement(url: string): RoutePlacement {
  if (url === '/healthz' || url === '/readyz') return { listener: 'both', token: 'never' };
  if (url.endsWith('/notifications/:instanceId/:name')) return { listener: 'public', token: 'never' };
  if (url === '/metrics') return { listener: 'admin', token: 'when-shared' };
  // the operator console's page and assets: where /v1/* is, without a token (a browser cannot
  // send a bearer header when navigating; the page's own data calls send it)
  if (url === '/console' || url.startsWith('/console/')) return { listener: 'admin', token: 'never' };
  // /v1/*, /openapi.json, and anything added later that is not listed above
  return { listener: 'admin', token: 'always' };
}

/** Timeouts and the connection cap, applied to both listeners (HTTP_* settings). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
  maxConnections: number;
}

/** node:http options for a listener: headers timeout at most the request timeout, checked every second. */
export function nodeServerOptions(l: HttpLimits): ServerOptions {
  // node checks these timeouts every connectionsCheckingInterval (30 s by default): that is why
  // a trickled body held a socket ~80 s; 1 s keeps the cut within a second of the bound.
  return { headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs), requestTimeout: l.requestTimeoutMs, keepAliveTimeout: l.keepAliveTimeoutMs, connectionsCheckingInterval: 1000 };
}

/** Applies what node:http takes as properties rather than options. */
export function applyServerLimits(server: Server, l: HttpLimits): void {
  server.maxConnections = l.maxConnections;
  server.setTimeout(l.connectionTimeoutMs);
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs);
}

/**
 * What node:http refuses before any route sees the request (a slow client past its timeout,
 * oversized headers, unparseable HTTP), answered in our error shape on both listeners, then closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = 'the request is not valid HTTP/1.1';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'the request was not received completely in time (HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS)';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'the request headers are larger than 16 KB';
  }
  if (socket.writable) {
    const body = JSON.stringify({ code: 'HVG_ERR_BAD_REQUEST', message });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}

export interface AdminOptions {
  tokens: readonly string[];
  adminPort: AdminPort;
  limits: HttpLimits;
  /** requests per client address per minute on the admin listener; 0 = no limit */
  rateLimitPerMinute: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function tokenMatches(presented: string, digests: readonly Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  // compare against every token (no early exit), each in constant time
  for (const t of digests) ok = timingSafeEqual(d, t) || ok;
  return ok;
}

const notHere = (req: FastifyRequest) => new HvgError('HVG_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);

export default fp<AdminOptions>(
  async (app, opts) => {
    const digests = opts.tokens.map(digest);
    const shared = opts.adminPort === 'shared';
    app.decorate('adminPort', 0);
    // the admin listener: the same app behind a second server, listened on by listenAll()
    const server: Server | null = shared ? null : createServer(nodeServerOptions(opts.limits), (req, res) => app.routing(req, res));
    app.decorate('adminServer', server);
    const adminSockets = new WeakSet<Socket>();
    if (server) {
      applyServerLimits(server, opts.limits);
      server.on('connection', (s: Socket) => adminSockets.add(s));
      server.on('clientError', clientErrorHandler);
      app.addHook('onClose', async () => {
        if (!server.listening) return;
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      });
    }
    // callback-style hooks: no promise per request on the notification hot path
    const publicOnly: onRequestHookHandler = (req, _reply, done) => done(adminSockets.has(req.raw.socket) ? notHere(req) : undefined);
    const adminOnly: onRequestHookHandler = (req, _reply, done) => done(adminSockets.has(req.raw.socket) ? undefined : notHere(req));
    const token: onRequestHookHandler = (req, _reply, done) => {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
      done(m && tokenMatches(m[1]!, digests) ? undefined : new HvgError('HVG_ERR_UNAUTHORIZED', 'this route needs Authorization: Bearer <one of ADMIN_TOKENS>'));
    };
    // Admin routes: @fastify/rate-limit per client address, before the token check, so a
    // token-guessing or reconcile-hammering client is slowed down. (The notification route has
    // budgets of its own in the receiver: they must count only after the HMAC verified, which a
    // hook that runs before the handler cannot do.)
    await app.register(rateLimit, {
      global: false,
      // only Retry-After: the informational headers on every admin answer tell nobody anything
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    });
    const limited = opts.rateLimitPerMinute > 0
      ? app.rateLimit({
        max: opts.rateLimitPerMinute,
        timeWindow: 60_000,
        errorResponseBuilder: (_req, ctx) => new HvgError('HVG_ERR_RATE_LIMITED', `more than ${ctx.max} admin requests per minute from this address (ADMIN_RATE_LIMIT); retry in ${ctx.after}`),
      })
      : null;
    // every route registered after this plugin gets its guards (app.ts registers it first)
    app.addHook('onRoute', (route) => {
      const p = routePlacement(route.url);
      const guards: onRequestHookHandler[] = [];
      if (!shared && p.listener === 'public') guards.push(publicOnly);
      if (!shared && p.listener === 'admin') guards.push(adminOnly);
      if (limited !== null && p.listener === 'admin') guards.push(limited as onRequestHookHandler);
      if (p.token === 'always' || (p.token === 'when-shared' && shared)) guards.push(token);
      if (guards.length === 0) return;
      const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      route.onRequest = [...guards, ...own];
    });
  },
  { name: 'hvg-admin' },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** the admin listener's actual port once listening (0 before, and with ADMIN_PORT=shared) */
    adminPort: number;
    adminServer: Server | null;
  }
}

const origin = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Listens on PORT and, unless ADMIN_PORT=shared, on the admin port (0 = a free one); logs both. */
export async function listenAll(app: Gateway, host: string, port: number, adminPort: AdminPort): Promise<{ url: string; adminUrl: string }> {
  const url = await app.listen({ host, port });
  const server = app.adminServer;
  if (adminPort === 'shared' || server === null) {
    app.log.info({ url }, 'admin routes share the public listener (ADMIN_PORT=shared)');
    return { url, adminUrl: url };
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(adminPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as { port: number }).port;
  app.adminPort = actual;
  const adminUrl = origin(host, actual);
  app.log.info({ url, adminUrl }, 'listening; admin routes on their own listener');
  return { url, adminUrl };
}
