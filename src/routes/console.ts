// The operator console: a static page (src/console/, plain HTML/CSS/JS modules, no build step)
// served where /v1/* is served. The page itself needs no token — a browser cannot send a bearer
// header when it navigates — and holds no data; its calls to /v1/status and the actions send the
// admin token the operator typed (kept in sessionStorage). No cookies, so no CSRF surface.
//
// The files are read once at start into memory and served from a closed list, so a request can
// only ever name one of them (no path handling, nothing read from disk per request). They are
// found relative to the package root (src/console), the same path from src/ and from dist/,
// which is why the Dockerfile copies src/console next to dist/.
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { gatewayPlugin } from '../plugins/gateway.ts';

export const CONSOLE_DIR = new URL('../../src/console/', import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Everything the page loads comes from this origin; data is only ever inserted as text.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  type: string;
  body: Buffer;
}

export function loadConsoleAssets(dir: URL = CONSOLE_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (type !== undefined && /^[a-z0-9-]+\.[a-z]+$/.test(name)) assets.set(name, { type, body: readFileSync(new URL(name, dir)) });
  }
  if (!assets.has('index.html')) throw new Error(`the console's index.html is missing in ${dir.pathname}`);
  return assets;
}

export default gatewayPlugin(async (app) => {
  const assets = loadConsoleAssets();
  const send = (reply: FastifyReply, a: Asset) =>
    reply
      .header('content-type', a.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', CSP)
      .send(a.body);
  const hide = { schema: { hide: true }, logLevel: 'warn' } as const;

  app.get('/console', hide, async (_req, reply) => send(reply, assets.get('index.html')!));
  // the page's relative asset URLs assume /console; send /console/ there (relative: proxy prefixes keep working)
  app.get('/console/', hide, async (_req, reply) => reply.redirect('../console', 301));
  app.get<{ Params: { file: string } }>('/console/:file', hide, async (req, reply) => {
    const a = assets.get(req.params.file);
    if (a === undefined || req.params.file === 'index.html') return reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `no console file ${req.params.file.slice(0, 80)}` });
    return send(reply, a);
  });
}, { name: 'hvg-routes-console', encapsulate: true });
