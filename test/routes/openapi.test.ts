// The OpenAPI document (/openapi.json) comes from the route schemas (routes/schemas.ts): every
// admin route the app serves is in it with its summary, its path and query parameters and its
// request body, the routes that are not the admin API are not, and the README's route table
// names the same routes. The route list is read from the real app's router.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { request } from 'undici';
import { startApp } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/env.ts';

interface Operation { summary?: string; tags?: string[]; parameters?: { in: string; name: string }[]; requestBody?: unknown; responses?: Record<string, { content?: unknown }> }

/** "METHOD /path" of every route in fastify's printRoutes() tree (HEAD left out). */
function routesOf(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S*)(?: \(([^)]*)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) out.push(`${method} ${stack.join('')}`);
  }
  return out;
}

const toOpenApi = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

t.test('every admin route is in the OpenAPI document, with its parameters, body and summary; nothing else is', async (t) => {
  const { app, adminUrl } = await startApp(t);
  const routes = routesOf(app.printRoutes({ commonPrefix: false }));
  const admin = routes.filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
  t.ok(admin.length >= 9, `${admin.length} admin routes found in the router`);
  const res = await request(`${adminUrl}/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const doc = (await res.body.json()) as { paths: Record<string, Record<string, Operation>> };
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  t.same(documented.sort(), admin.map((r) => { const [m, p] = r.split(' '); return `${m} ${toOpenApi(p!)}`; }).sort(), 'the document lists exactly the admin routes');

  for (const r of admin) {
    const [method, path] = r.split(' ') as [string, string];
    const op = doc.paths[toOpenApi(path)]?.[method.toLowerCase()];
    if (!t.ok(op, r)) continue;
    t.ok(op.summary && op.tags?.length, `${r}: summary and tag`);
    for (const name of [...path.matchAll(/:([A-Za-z]+)/g)].map((x) => x[1]!)) t.ok(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${r}: path parameter ${name}`);
    t.ok(op.responses && Object.keys(op.responses).some((s) => s.startsWith('2')), `${r}: a success answer`);
  }
  const put = doc.paths['/v1/subscriptions/{name}']?.put;
  t.ok(put?.requestBody, 'PUT /v1/subscriptions/{name}: its body');
  t.same(put?.parameters?.filter((p) => p.in === 'header').map((p) => p.name).sort(), ['if-match', 'if-none-match'], 'PUT: the precondition headers');
  t.same(doc.paths['/v1/reconcile']?.post?.parameters?.filter((p) => p.in === 'query').map((p) => p.name), ['dryRun']);
  t.same(doc.paths['/v1/instances/select']?.get?.parameters?.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['country', 'stateProvince']);
  const enums = JSON.stringify(doc.paths['/v1/subscriptions/{name}']?.get?.responses?.['200']);
  t.match(enums, '"enum":["in-sync","pending","error","missing"]', 'the sync states of the model');

  // the README's route table documents the same admin routes
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = [...readme.matchAll(/^\| `(GET|PUT|POST|DELETE) (\/v1\/[^`?]*)(?:\?[^`]*)?` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
  t.same(table.sort(), documented.sort(), 'README route table = the OpenAPI document');
});
