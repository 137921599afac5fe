// GET /console: the page shell needs no token, holds no data, is served from a closed list of
// files with a strict CSP, and lives only where /v1/* is served (the admin port when there is one).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { request } from 'undici';
import { buildApp } from '../../src/app.ts';
import { CONSOLE_DIR } from '../../src/routes/console.ts';
import { loadConfig } from '../../src/config/index.ts';
import { listenAll } from '../../src/plugins/admin.ts';
import { startApp } from '../helpers/app.ts';
import { requiredEnv } from '../helpers/env.ts';
import { brokers, freePortPair, uniqueTopic } from '../helpers/kafka.ts';

const get = async (url: string) => {
  const r = await request(url);
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
};

t.test('the page and its modules without a token; nothing else', async (t) => {
  const { adminUrl } = await startApp(t);
  const page = await get(`${adminUrl}/console`);
  t.equal(page.status, 200, 'no token needed for the shell');
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers['content-security-policy'], /script-src 'self'/);
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.equal(page.headers['set-cookie'], undefined, 'no cookie');
  t.match(page.text, /<label for="token">Admin token<\/label>/);
  for (const [file, type] of [['main.js', /^text\/javascript/], ['api.js', /^text\/javascript/], ['render.js', /^text\/javascript/], ['console.css', /^text\/css/]] as const) {
    const a = await get(`${adminUrl}/console/${file}`);
    t.equal(a.status, 200, file);
    t.match(a.headers['content-type'], type, `${file} content type`);
  }
  for (const path of ['/console/nope.js', '/console/..%2Fapp.ts', '/console/%2e%2e%2fpackage.json', '/console/index.html']) {
    const r = await get(`${adminUrl}${path}`);
    t.equal(r.status, 404, `${path}: only the listed files`);
  }
  const slash = await request(`${adminUrl}/console/`);
  await slash.body.dump();
  t.same([slash.statusCode, slash.headers.location], [301, '../console'], '/console/ → /console (relative: a proxy prefix survives)');
});

t.test('with ADMIN_PORT the console is served on the admin port only', async (t) => {
  const adminPort = await freePortPair();
  const config = loadConfig({
    ...requiredEnv(), KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: uniqueTopic('console'), KAFKA_STATE_TOPIC: uniqueTopic('console-state'),
    KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: String(adminPort),
  });
  const app = await buildApp(config);
  t.teardown(() => app.close());
  const { url, adminUrl } = await listenAll(app, '127.0.0.1', 0, adminPort);
  t.equal((await get(`${adminUrl}/console`)).status, 200, 'on the admin port');
  t.equal((await get(`${adminUrl}/console/main.js`)).status, 200);
  for (const path of ['/console', '/console/main.js']) t.equal((await get(`${url}${path}`)).status, 404, `${path} not on the public port`);
});

t.test('the image ships the console where dist/ looks for it', async (t) => {
  t.match(CONSOLE_DIR.pathname, /\/src\/console\/$/, 'found relative to the package root, from src/ and dist/ alike');
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  t.match(dockerfile, /^COPY --from=build \S* ?\/app\/src\/console \.\/src\/console$/m, 'the Dockerfile copies src/console next to dist/');
});
