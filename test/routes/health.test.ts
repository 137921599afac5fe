import t from 'tap';
import { request } from 'undici';
import { startApp } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/env.ts';

t.test('healthz and readyz over real HTTP', async (t) => {
  const { app, url } = await startApp(t);
  const health = await request(`${url}/healthz`);
  t.equal(health.statusCode, 200);
  t.same(await health.body.json(), { status: 'ok' });

  const ready = await request(`${url}/readyz`);
  t.equal(ready.statusCode, 200);
  const body = (await ready.body.json()) as { ready: boolean; checks: unknown; warnings: { instances: string } };
  t.same([body.ready, body.checks], [true, { kafka: 'ok', store: 'ok', lifecycle: 'ok' }]);
  t.type(body.warnings.instances, 'string', 'instance problems are reported as warnings');

  // the producer gone → not ready, with the reason
  await app.sink.close();
  const notReady = await request(`${url}/readyz`);
  t.equal(notReady.statusCode, 503);
  t.match(await notReady.body.json(), { ready: false, checks: { kafka: 'not ready (closed)', store: 'ok', lifecycle: 'ok' } });
});

t.test('the admin API needs a bearer token; health and notifications do not', async (t) => {
  const { url, adminUrl } = await startApp(t);
  const get = async (path: string, token?: string) => {
    const r = await request(`${path.startsWith('/v1/') || path === '/openapi.json' ? adminUrl : url}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, body: (await r.body.json()) as { code?: string } };
  };
  for (const path of ['/v1/subscriptions', '/v1/instances', '/v1/consistency', '/openapi.json']) {
    const none = await get(path);
    t.same([none.status, none.body.code], [401, 'HVG_ERR_UNAUTHORIZED'], `${path} without a token`);
    const wrong = await get(path, 'wrong-token-0123456789');
    t.same([wrong.status, wrong.body.code], [401, 'HVG_ERR_UNAUTHORIZED'], `${path} with a wrong token`);
  }
  t.equal((await get('/v1/subscriptions', ADMIN_TOKEN)).status, 200, 'the right token');
  t.equal((await get('/healthz')).status, 200);
  const n = await request(`${url}/notifications/1/nothing`, { method: 'POST', body: '<x/>' });
  // no instance discovered yet (platform.invalid): 503 + Retry-After, and no token asked for
  t.same([n.statusCode, ((await n.body.json()) as { code: string }).code, n.headers['retry-after']], [503, 'HVG_ERR_TOPOLOGY_UNAVAILABLE', '5'], 'the notification route answers without a token');
  const doc = await request(`${adminUrl}/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const openapi = (await doc.body.json()) as { openapi: string; paths: Record<string, unknown> };
  t.equal(openapi.openapi, '3.1.0');
  t.ok(openapi.paths['/v1/subscriptions/{name}'], 'the OpenAPI document lists the subscription routes');
  t.notOk(openapi.paths['/notifications/{instanceId}/{name}'], 'but not the notification route');
});

t.test('unknown routes get a coded 404', async (t) => {
  const { url } = await startApp(t);
  const res = await request(`${url}/nope`);
  t.equal(res.statusCode, 404);
  t.same(await res.body.json(), { code: 'HVG_ERR_NOT_FOUND', message: 'no route GET /nope' });
});
