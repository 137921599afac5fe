// The app's one error handler (src/plugins/error-handler.ts) over real HTTP in the real app:
// every code of the catalogue (src/errors.ts) thrown by a route is answered with its status,
// the body { code, message } and Retry-After exactly when the answered code is retriable — on
// an admin route as it is, on a public route (errorAnswers: 'public', as the notification
// route) with the inside hidden. Plus what is not ours: validation, fastify's 4xx, a bug, no route.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { ERRORS, HvgError, type ErrorCode } from '../../src/errors.ts';
import { startApp } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/env.ts';

const CODES = Object.keys(ERRORS) as ErrorCode[];
const RETRY_AFTER = '9';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function serve(t: Test) {
  return startApp(t, { NOTIFICATION_RETRY_AFTER_SECONDS: RETRY_AFTER }, (app) => {
    app.get<{ Params: { code: ErrorCode } }>('/v1/test-errors/:code', async (req) => {
      throw new HvgError(req.params.code, `test error ${req.params.code}`);
    });
    app.get('/v1/test-errors-own-retry', async () => {
      throw new HvgError('HVG_ERR_STORE_UNAVAILABLE', 'the store is catching up', { details: { retryAfterSeconds: 2 } });
    });
    app.post<{ Params: { code: ErrorCode } }>('/test-public-errors/:code', { config: { errorAnswers: 'public' } }, async (req) => {
      throw new HvgError(req.params.code, `inside detail of ${req.params.code}`);
    });
    app.get('/v1/test-bug', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
  });
}

async function call(base: string, method: 'GET' | 'POST', path: string, body?: string) {
  const res = await request(`${base}${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body }) });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, body: (await res.body.json()) as { code: string; message: string } };
}

t.test('admin routes: every catalogue code → its status, { code, message }, Retry-After iff retriable', async (t) => {
  const { adminUrl } = await serve(t);
  for (const code of CODES) {
    const r = await call(adminUrl, 'GET', `/v1/test-errors/${code}`);
    t.same(r, { status: ERRORS[code].status, retryAfter: ERRORS[code].retriable ? RETRY_AFTER : null, body: { code, message: `test error ${code}` } }, code);
  }
  t.same(await call(adminUrl, 'GET', '/v1/test-errors-own-retry'), { status: 503, retryAfter: '2', body: { code: 'HVG_ERR_STORE_UNAVAILABLE', message: 'the store is catching up' } }, "an error's own Retry-After wins");
});

// the notification route tells the internet what to do, never what went wrong inside
const STORE_LATER: ReadonlySet<string> = new Set(['HVG_ERR_KAFKA_UNREACHABLE', 'HVG_ERR_KAFKA_TIMEOUT', 'HVG_ERR_KAFKA_PRODUCE', 'HVG_ERR_SINK_OVERLOADED', 'HVG_ERR_SINK_CLOSED']);
function publicExpectation(code: ErrorCode) {
  if (STORE_LATER.has(code)) return { status: 503, retryAfter: RETRY_AFTER, body: { code, message: 'the notification could not be stored now; retry later' } };
  if (code === 'HVG_ERR_TOPOLOGY_UNAVAILABLE') return { status: 503, retryAfter: RETRY_AFTER, body: { code, message: `inside detail of ${code}` } };
  if (code === 'HVG_ERR_RATE_LIMITED') return { status: 429, retryAfter: '1', body: { code, message: `inside detail of ${code}` } };
  if (ERRORS[code].status >= 500) return { status: 500, retryAfter: null, body: { code: 'HVG_ERR_INTERNAL', message: 'internal error' } };
  return { status: ERRORS[code].status, retryAfter: null, body: { code, message: `inside detail of ${code}` } };
}

t.test('a public route: every catalogue code answered without the inside; Retry-After iff the answered code is retriable', async (t) => {
  const { adminUrl } = await serve(t);
  for (const code of CODES) {
    const r = await call(adminUrl, 'POST', `/test-public-errors/${code}`);
    t.same(r, publicExpectation(code), code);
    const answered = r.body.code as ErrorCode;
    t.equal(r.retryAfter !== null, ERRORS[answered].retriable, `${code}: Retry-After iff ${answered} is retriable`);
  }
});

t.test('errors that are not ours: validation, fastify refusals, a bug, no route', async (t) => {
  const { adminUrl } = await serve(t);
  const invalid = await call(adminUrl, 'GET', '/v1/subscriptions?dryrun=1');
  t.same([invalid.status, invalid.body.code, invalid.retryAfter], [400, 'HVG_ERR_VALIDATION', null]);
  t.match(invalid.body.message, /unknown query parameter "dryrun"/);
  const badJson = await call(adminUrl, 'POST', '/v1/reconcile?dryRun=true', '{"a":');
  t.same([badJson.status, badJson.body.code], [400, 'HVG_ERR_BAD_REQUEST'], 'unparseable JSON');
  t.same(await call(adminUrl, 'GET', '/v1/test-bug'), { status: 500, retryAfter: null, body: { code: 'HVG_ERR_INTERNAL', message: 'internal error' } }, 'a bug: nothing of it in the answer');
  t.same(await call(adminUrl, 'GET', '/v1/nope?x=1'), { status: 404, retryAfter: null, body: { code: 'HVG_ERR_NOT_FOUND', message: 'no route GET /v1/nope' } });
  const framework = await call(adminUrl, 'GET', '/v1/subscriptions/%E0%A4%A');
  t.same([framework.status, framework.body.code], [400, 'HVG_ERR_BAD_REQUEST'], 'a URL that does not decode');
});
