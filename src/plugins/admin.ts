// The admin API (/v1/*, /openapi.json) takes bearer tokens, compared in constant time; it can
// also be given a port of its own (ADMIN_PORT) so it never faces the internet next to the
// notification route. /healthz, /readyz stay open on both ports; the notification route is
// public and is not served on the admin port; /metrics is served only on the admin port when
// there is one.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HvgError } from '../errors.ts';

export interface AdminOptions {
  tokens: readonly string[];
  /** 0 = admin routes on the main port */
  adminPort: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const isAdminRoute = (url: string | undefined): boolean => url !== undefined && (url.startsWith('/v1/') || url === '/openapi.json');
// the operator console's page and assets: served where /v1/* is, without a token (its data calls send one)
const isConsoleRoute = (url: string | undefined): boolean => url === '/console' || (url?.startsWith('/console/') ?? false);

export function tokenMatches(presented: string, digests: readonly Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  // compare against every token (no early exit), each in constant time
  for (const t of digests) ok = timingSafeEqual(d, t) || ok;
  return ok;
}

export default fp<AdminOptions>(
  async (app, opts) => {
    const digests = opts.tokens.map(digest);
    const separate = opts.adminPort > 0;
    const onAdminPort = (req: FastifyRequest) => req.socket.localPort === app.adminPort;
    app.decorate('adminPort', 0);
    // the admin socket: the same app behind a second server, listened on by listenAll()
    const server: Server | null = separate ? createServer((req, res) => app.routing(req, res)) : null;
    app.decorate('adminServer', server);
    if (server) {
      app.addHook('onClose', async () => {
        if (!server.listening) return;
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      });
    }
    app.addHook('onRequest', async (req) => {
      const url = req.routeOptions.url;
      if (separate) {
        const admin = onAdminPort(req);
        if (!admin && (isAdminRoute(url) || isConsoleRoute(url) || url === '/metrics')) throw new HvgError('HVG_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
        if (admin && url?.startsWith('/notifications/')) throw new HvgError('HVG_ERR_NOT_FOUND', 'notifications are not served on the admin port');
      }
      if (!isAdminRoute(url)) return;
      const header = req.headers.authorization ?? '';
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
      if (!m || !tokenMatches(m[1]!, digests)) throw new HvgError('HVG_ERR_UNAUTHORIZED', 'the admin API needs Authorization: Bearer <one of ADMIN_TOKENS>');
    });
  },
  { name: 'hvg-admin' },
);

declare module 'fastify' {
  interface FastifyInstance {
    adminPort: number;
    adminServer: Server | null;
  }
}

/** Listen on the main port and, when configured, the admin port (same app, second socket). */
export async function listenAll(app: FastifyInstance, host: string, port: number, adminPort: number): Promise<{ url: string; adminUrl: string }> {
  const url = await app.listen({ host, port });
  const server = app.adminServer;
  if (adminPort <= 0 || server === null) return { url, adminUrl: url };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(adminPort, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  app.adminPort = actual;
  return { url, adminUrl: `http://${host.includes(':') ? `[${host}]` : host}:${actual}` };
}
