// What an anonymous caller can do to the public route (issue 11): nothing it sends grows state,
// makes it answer 500, or spends the budget genuine deliveries need.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { buildNotificationBody } from '../../src/healthvault/index.ts';
import { topicEndOffset } from '../helpers/kafka.ts';
import { startApp } from '../helpers/app.ts';
import { harness, instancesEnv, notification, post, sign, SUB_US, type Harness } from './helpers.ts';

/** The gateway's own series (process metrics aside: GC kinds and handle types come and go by themselves). */
async function gatewaySeries(h: Harness): Promise<number> {
  const text = await h.metrics.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith('hv_gateway_') && !l.startsWith('hv_gateway_process_')).length;
}

const junkPaths = (rnd: string) => [
  `/notifications/${rnd}/glucose`, // an instance nobody serves
  `/notifications/9/glucose`,
  '/notifications//glucose', // empty id
  '/notifications/%00/glucose', // NUL (was a 500 from key derivation)
  `/notifications/1/${rnd}`, // a served instance, a name nobody subscribed
  `/hv/notifications/${rnd}/glucose`, // the same under PUBLIC_BASE_URL's path
  `/notifications/${'x'.repeat(60)}${rnd}/glucose`, // long, but within the router's 100 characters
];

t.test('a flood of random instance ids and names creates no series and no map entries, and every answer is a 404', async (t) => {
  const h = await harness(t);
  const body = buildNotificationBody([notification(SUB_US)]);
  const auth = sign('1', SUB_US, body);
  t.equal((await post(h.url, '/notifications/1/glucose', body, auth)).status, 200, 'a genuine delivery first');
  // one of each kind, so every label a refusal can use exists before counting
  for (const p of junkPaths('warm')) await post(h.url, p, body, auth);
  const seriesBefore = await gatewaySeries(h);
  const sizesBefore = h.receiver.stateSizes();

  const pool = new Pool(h.url, { connections: 8 });
  t.teardown(() => pool.close());
  const statuses = new Map<string, number>();
  const paths = Array.from({ length: 300 }, () => junkPaths(randomUUID())).flat();
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const res = await pool.request({ path, method: 'POST', body, headers: { authorization: auth, 'content-type': 'text/xml' } });
      const json = (await res.body.json()) as { code: string };
      const k = `${res.statusCode} ${json.code}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  t.same([...statuses.entries()], [['404 HVG_ERR_UNKNOWN_SUBSCRIPTION', paths.length]], `all ${paths.length} junk requests: 404`);
  t.equal(await gatewaySeries(h), seriesBefore, 'not one new metric series');
  t.same(h.receiver.stateSizes(), sizesBefore, 'no new metric child, key, or budget entry');
  const text = await h.metrics.registry.getSingleMetricAsString('hv_gateway_notification_requests_rejected_total');
  t.notMatch(text, /instance="(?!1"|2"|unknown")/, 'instance labels only from the registry (or "unknown")');
  t.equal((await post(h.url, '/notifications/1/glucose', body, auth)).status, 200, 'genuine deliveries still served');
});

t.test('junk cannot spend the rate budget of genuine deliveries; failed authentications have their own', async (t) => {
  // 20 verified requests per window, 10 failures; the window (60 s) outlasts the test
  const h = await harness(t, { rateLimit: 20, authFailureLimit: 10 });
  const pool = new Pool(h.url, { connections: 8 });
  t.teardown(() => pool.close());
  const genuine: number[] = [];
  const junk = new Map<string, number>();
  const junkBody = buildNotificationBody([notification(SUB_US)]);
  const forged = sign('2', SUB_US, junkBody); // the EU key on the US path: a bad signature
  const sendJunk = async (i: number) => {
    const path = i % 2 === 0 ? `/notifications/1/junk${i}` : '/notifications/1/glucose';
    const res = await pool.request({ path, method: 'POST', body: junkBody, headers: { authorization: i % 3 === 0 ? 'HVEventingSharedKey x' : forged } });
    const { code } = (await res.body.json()) as { code: string };
    junk.set(`${res.statusCode} ${code}`, (junk.get(`${res.statusCode} ${code}`) ?? 0) + 1);
  };
  // 15 genuine deliveries (under the limit of 20), each amid 40 junk requests sent at the same time
  for (let g = 0; g < 15; g++) {
    const body = buildNotificationBody([notification(SUB_US)]);
    const flood = Array.from({ length: 40 }, (_, i) => sendJunk(g * 40 + i));
    const res = await pool.request({ path: '/notifications/1/glucose', method: 'POST', body, headers: { authorization: sign('1', SUB_US, body) } });
    genuine.push(res.statusCode);
    await res.body.dump();
    await Promise.all(flood);
  }
  t.same(genuine, Array(15).fill(200), 'every genuine delivery got 200');
  t.equal(await topicEndOffset(h.topic), 15);
  t.equal(junk.get('404 HVG_ERR_UNKNOWN_SUBSCRIPTION'), 300, 'unknown names: 404, never counted');
  t.equal((junk.get('401 HVG_ERR_AUTH_BAD_SIGNATURE') ?? 0) + (junk.get('401 HVG_ERR_AUTH_MALFORMED') ?? 0), 10, 'the first 10 failures: 401');
  t.equal(junk.get('429 HVG_ERR_RATE_LIMITED'), 290, 'further failures: 429, from their own budget');
  // and the verified budget still holds: 5 more genuine pass, the 6th is over the limit of 20
  const more: number[] = [];
  for (let g = 0; g < 6; g++) {
    const body = buildNotificationBody([notification(SUB_US)]);
    more.push((await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body))).status);
  }
  t.same(more, [200, 200, 200, 200, 200, 429], 'verified traffic is limited by its own budget');
});

t.test('bad input on the public route of the real app: a coded 4xx, never a 500', async (t) => {
  const { url, topic } = await startApp(t, instancesEnv(['1', '2']));
  const body = buildNotificationBody([notification(SUB_US)]);
  const auth = sign('1', SUB_US, body);
  const cases: [string, string, string | undefined][] = [
    ['NUL instance, valid header', '/notifications/%00/glucose', auth],
    ['NUL name', '/notifications/1/%00', auth],
    ['NUL in both', '/notifications/%00/%00', auth],
    ['NUL after a served id', '/notifications/1%00/glucose', auth],
    ['empty instance', '/notifications//glucose', auth],
    ['empty name', '/notifications/1/', auth],
    ['bad percent-encoding', '/notifications/%ZZ/glucose', auth],
    ['lone percent', '/notifications/%/glucose', auth],
    ['encoded slash', '/notifications/1%2Fx/glucose', auth],
    ['dot segments', '/notifications/../glucose', auth],
    ['unicode id', `/notifications/${encodeURIComponent('日本\u202e')}/glucose`, auth],
    ['very long name', `/notifications/1/${'n'.repeat(8000)}`, auth],
    ['query string', '/notifications/1/glucose?x=%00', undefined],
    ['header with a NUL-looking id', '/notifications/1/glucose', auth.replace(SUB_US, '00000000-0000-0000-0000-000000000000')],
    ['tab in the credentials', '/notifications/1/glucose', 'HVEventingSharedKey a\tb:c:d'],
    ['a 20 KB header', '/notifications/1/glucose', `HVEventingSharedKey ${'A'.repeat(20_000)}`],
    ['latin-1 header', '/notifications/1/glucose', 'HVEventingSharedKey é:é:é'],
  ];
  for (const [what, path, authorization] of cases) {
    const r = await post(url, path, body, authorization);
    t.ok(r.status >= 400 && r.status < 500 && /^HVG_ERR_[A-Z_]+$/.test(r.json?.code ?? ''), `${what}: ${r.status} ${r.json?.code}`);
  }
  t.equal(await topicEndOffset(topic), 0);
});

t.test('public answers say what to fix, nothing about the inside; the detail goes to a rate-limited warn log', async (t) => {
  const log: string[] = [];
  const h = await harness(t, { log, logBudget: { perWindow: 5, windowMs: 60_000 } });
  await h.store.writeSpec({ ...(await import('./helpers.ts')).spec({ keyVersion: 3, revision: 2 }) });
  const body = buildNotificationBody([notification(SUB_US)]);
  const v1 = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body, 1));
  t.equal(v1.json.code, 'HVG_ERR_AUTH_UNKNOWN_KEY_VERSION');
  t.notMatch(v1.json.message, /v3|accepted:/, 'the accepted key versions are not named');
  await h.sink.close();
  const down = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body, 3));
  t.same([down.status, down.json.code, down.headers['retry-after']], [503, 'HVG_ERR_SINK_CLOSED', '7']);
  t.notMatch(down.json.message, /127\.0\.0\.1|:\d{4,5}|kafka|broker/i, 'no broker address or internals in the answer');
  for (let i = 0; i < 30; i++) await post(h.url, '/notifications/9/glucose', body, 'junk');
  const refusals = log.map((l) => JSON.parse(l) as { msg: string; code: string; detail?: string }).filter((l) => l.msg === 'notification refused');
  t.equal(refusals.length, 5, '32 refusals, 5 log lines: the budget of the window');
  t.equal(refusals[1]?.code, 'HVG_ERR_SINK_CLOSED');
  t.type(refusals[1]?.detail, 'string', 'the log has the detail');
});

t.test('the route is served under the path of PUBLIC_BASE_URL too, with the same rules', async (t) => {
  const h = await harness(t); // basePath /hv
  const body = buildNotificationBody([notification(SUB_US)]);
  t.same((await post(h.url, '/hv/notifications/1/glucose', body, sign('1', SUB_US, body))).json, { produced: 1, deadLettered: 0 });
  t.equal((await post(h.url, '/hv/notifications/1/glucose', body, sign('2', SUB_US, body))).status, 401);
  t.equal((await post(h.url, '/hv/notifications/9/glucose', body, sign('1', SUB_US, body))).status, 404);
  t.equal((await post(h.url, '/other/notifications/1/glucose', body, sign('1', SUB_US, body))).status, 404, 'only that one prefix');
});
