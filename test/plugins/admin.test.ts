// Which listener serves what (plugins/admin.ts routePlacement): by default the admin API and
// /metrics only on the admin listener, notifications only on the public one, health on both;
// ADMIN_PORT=shared puts everything on PORT with /metrics behind the token.
import t from 'tap';
import { request } from 'undici';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { routePlacement, tokenMatches } from '../../src/plugins/admin.ts';
import { startApp } from '../helpers/app.ts';
import { ADMIN_TOKEN, requiredEnv } from '../helpers/env.ts';

const get = async (base: string, path: string, token = true) => {
  const r = await request(`${base}${path}`, token ? { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } } : {});
  const text = await r.body.text();
  return { status: r.statusCode, code: text.startsWith('{') ? (JSON.parse(text).code as string | undefined) : undefined };
};

t.test('ADMIN_PORT defaults to 9090; 0 and shared are accepted; anything else is refused', async (t) => {
  const env = { ...requiredEnv() };
  delete (env as Record<string, string | undefined>).ADMIN_PORT;
  t.equal(loadConfig(env).adminPort, 9090);
  t.equal(loadConfig({ ...env, ADMIN_PORT: '0' }).adminPort, 0);
  t.equal(loadConfig({ ...env, ADMIN_PORT: 'shared' }).adminPort, 'shared');
  t.throws(() => loadConfig({ ...env, ADMIN_PORT: 'public' }), /ADMIN_PORT must be an integer/);
});

t.test('ADMIN_PORT=0: the admin API and /metrics live on their own listener (a free port)', async (t) => {
  const { url, adminUrl, app } = await startApp(t);
  t.not(adminUrl, url, 'two listeners');
  t.equal(adminUrl, `http://127.0.0.1:${app.adminPort}`, 'the chosen port is exposed');
  t.equal((await get(adminUrl, '/v1/subscriptions')).status, 200, 'admin API on the admin listener');
  t.same(await get(url, '/v1/subscriptions'), { status: 404, code: 'HVG_ERR_NOT_FOUND' }, 'not on the public one');
  t.same(await get(url, '/openapi.json'), { status: 404, code: 'HVG_ERR_NOT_FOUND' }, '/openapi.json not on the public one');
  t.equal((await get(adminUrl, '/metrics', false)).status, 200, '/metrics on the admin listener, without a token');
  t.same(await get(url, '/metrics', false), { status: 404, code: 'HVG_ERR_NOT_FOUND' }, '/metrics not on the public listener');
  t.equal((await get(adminUrl, '/v1/subscriptions', false)).status, 401, 'the admin listener still needs a token');
  for (const base of [url, adminUrl]) {
    t.equal((await get(base, '/healthz', false)).status, 200, `healthz on ${base}`);
    t.not((await get(base, '/readyz', false)).status, 404, `readyz on ${base}`);
  }
  const n = await request(`${adminUrl}/notifications/1/x`, { method: 'POST', body: '<x/>' });
  t.same([n.statusCode, ((await n.body.json()) as { code: string }).code], [404, 'HVG_ERR_NOT_FOUND'], 'notifications are not served on the admin listener');
  const p = await request(`${url}/notifications/1/x`, { method: 'POST', body: '<x/>' });
  // served (no instance discovered yet behind platform.invalid, so 503 rather than 404)
  t.equal(((await p.body.json()) as { code: string }).code, 'HVG_ERR_TOPOLOGY_UNAVAILABLE', 'the public listener serves notifications');
});

t.test('ADMIN_PORT=shared: everything on PORT, /metrics needs the admin token too', async (t) => {
  const { url, adminUrl } = await startApp(t, { ADMIN_PORT: 'shared' });
  t.equal(adminUrl, url);
  t.same(await get(url, '/metrics', false), { status: 401, code: 'HVG_ERR_UNAUTHORIZED' }, '/metrics without a token');
  t.equal((await get(url, '/metrics')).status, 200, '/metrics with the token');
  t.equal((await get(url, '/v1/subscriptions')).status, 200);
  t.equal((await get(url, '/v1/subscriptions', false)).status, 401);
  t.equal((await get(url, '/healthz', false)).status, 200);
});

t.test('route placement: one predicate; unlisted routes default to the admin listener with a token', async (t) => {
  t.same(routePlacement('/healthz'), { listener: 'both', token: 'never' });
  t.same(routePlacement('/notifications/:instanceId/:name'), { listener: 'public', token: 'never' });
  t.same(routePlacement('/hv/notifications/:instanceId/:name'), { listener: 'public', token: 'never' });
  t.same(routePlacement('/metrics'), { listener: 'admin', token: 'when-shared' });
  t.same(routePlacement('/v1/subscriptions/:name'), { listener: 'admin', token: 'always' });
  t.same(routePlacement('/something-new'), { listener: 'admin', token: 'always' });
});

t.test('token comparison: any configured token, nothing else', async (t) => {
  const digests = ['first-token-0123456789', 'second-token-0123456789'].map((s) => createHash('sha256').update(s).digest());
  t.ok(tokenMatches('first-token-0123456789', digests));
  t.ok(tokenMatches('second-token-0123456789', digests));
  t.notOk(tokenMatches('first-token-012345678', digests));
  t.notOk(tokenMatches('', digests));
});

t.test('ADMIN_RATE_LIMIT: admin requests per address are limited before the token check; health and notifications are not', async (t) => {
  const { url, adminUrl } = await startApp(t, { ADMIN_RATE_LIMIT: '4' });
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await get(adminUrl, '/v1/subscriptions', i % 2 === 0)).status);
  t.same(answers, [200, 401, 200, 401], 'within the limit: answered on their merits');
  const over = await request(`${adminUrl}/v1/subscriptions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(over.statusCode, 429, 'the fifth request in the minute is refused, even with a good token');
  t.equal(((await over.body.json()) as { code: string }).code, 'HVG_ERR_RATE_LIMITED');
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After says when to come back');
  t.equal((await get(adminUrl, '/metrics', false)).status, 429, '/metrics shares the admin budget');
  t.equal((await get(adminUrl, '/healthz', false)).status, 200, 'probes are never limited');
  const p = await request(`${url}/notifications/1/x`, { method: 'POST', body: '<x/>' });
  t.not(p.statusCode, 429, 'the notification route has budgets of its own');
  await p.body.dump();
  t.equal(loadConfig({ ...requiredEnv(), ADMIN_RATE_LIMIT: '0' }).adminRateLimit, 0, '0 turns it off');
});
