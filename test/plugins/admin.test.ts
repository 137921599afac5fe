// ADMIN_PORT: the admin API and /metrics only on the admin socket, notifications only on the public one.
import t from 'tap';
import { request } from 'undici';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { listenAll, tokenMatches } from '../../src/plugins/admin.ts';
import { createHash } from 'node:crypto';
import { ADMIN_TOKEN, requiredEnv } from '../helpers/env.ts';
import { brokers, freePortPair, uniqueTopic } from '../helpers/kafka.ts';

t.test('with ADMIN_PORT the admin API lives on its own port', async (t) => {
  const adminPort = await freePortPair();
  const config = loadConfig({
    ...requiredEnv(), KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: uniqueTopic('admin'), KAFKA_STATE_TOPIC: uniqueTopic('admin-state'),
    KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: String(adminPort),
  });
  const app = await buildApp(config);
  t.teardown(() => app.close());
  const { url, adminUrl } = await listenAll(app, '127.0.0.1', 0, adminPort);
  t.equal(adminUrl, `http://127.0.0.1:${adminPort}`);
  const get = async (base: string, path: string, token = true) => {
    const r = await request(`${base}${path}`, token ? { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } } : {});
    const text = await r.body.text();
    return { status: r.statusCode, code: text.startsWith('{') ? (JSON.parse(text).code as string | undefined) : undefined };
  };
  t.equal((await get(adminUrl, '/v1/subscriptions')).status, 200, 'admin API on the admin port');
  t.same(await get(url, '/v1/subscriptions'), { status: 404, code: 'HVG_ERR_NOT_FOUND' }, 'not on the public port');
  t.equal((await get(adminUrl, '/metrics', false)).status, 200, '/metrics on the admin port');
  t.equal((await get(url, '/metrics', false)).status, 404, 'not on the public port');
  t.equal((await get(adminUrl, '/v1/subscriptions', false)).status, 401, 'the admin port still needs a token');
  for (const base of [url, adminUrl]) t.equal((await get(base, '/healthz', false)).status, 200, `health on ${base}`);
  const n = await request(`${adminUrl}/notifications/1/x`, { method: 'POST', body: '<x/>' });
  await n.body.dump();
  t.equal(n.statusCode, 404, 'notifications are not served on the admin port');
  const p = await request(`${url}/notifications/1/x`, { method: 'POST', body: '<x/>' });
  t.equal(((await p.body.json()) as { code: string }).code, 'HVG_ERR_UNKNOWN_SUBSCRIPTION', 'the public port serves notifications');
});

t.test('token comparison: any configured token, nothing else', async (t) => {
  const digests = ['first-token-0123456789', 'second-token-0123456789'].map((s) => createHash('sha256').update(s).digest());
  t.ok(tokenMatches('first-token-0123456789', digests));
  t.ok(tokenMatches('second-token-0123456789', digests));
  t.notOk(tokenMatches('first-token-012345678', digests));
  t.notOk(tokenMatches('', digests));
});
