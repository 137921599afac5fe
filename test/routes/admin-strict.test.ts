// Issue 18, item 1: the admin API refuses unknown body fields and query parameters with a 400
// that names them, on every /v1 route, instead of dropping them (Fastify's default Ajv strips
// them: a typo such as "instance" for "instances" would have registered everywhere).
import t from 'tap';
import { request } from 'undici';
import { startApp } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/env.ts';
import { uniqueTopic } from '../helpers/kafka.ts';
import { GLUCOSE } from '../../support/fixtures.ts';


t.test('unknown fields and query parameters are refused and named', async (t) => {
  // a store of its own: "glucose" must not exist yet
  const { adminUrl } = await startApp(t, { KAFKA_STATE_TOPIC: uniqueTopic('strict-state') });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await request(`${adminUrl}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.body.text();
    return { status: r.statusCode, json: (text ? JSON.parse(text) : null) as { code?: string; message?: string } | null };
  };

  // the residency typo of the issue: "instance" instead of "instances"
  const typo = await call('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], instance: ['2'] });
  t.same([typo.status, typo.json?.code], [400, 'HVG_ERR_VALIDATION'], 'PUT with an unknown field → 400');
  t.match(typo.json?.message, /unknown field "instance" in the request body \(allowed: eventType, typeIds, instances, keyVersion, enrich\)/);
  t.equal((await call('GET', '/v1/subscriptions/glucose')).status, 404, 'nothing was registered');

  const two = await call('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], foo: 1, bar: 2 });
  t.equal(two.status, 400);
  t.match(two.json?.message, /unknown fields "foo", "bar"/, 'every unknown field is named, not just the first');

  const queries: [string, string, string][] = [
    ['GET', '/v1/subscriptions?limit=5', '"limit"'],
    ['GET', '/v1/subscriptions/glucose?verbose=1', '"verbose"'],
    ['POST', '/v1/reconcile?dryrun=true', '"dryrun" in the query string (allowed: dryRun)'],
    ['GET', '/v1/consistency?instance=2', '"instance"'],
    ['GET', '/v1/instances?all=1', '"all"'],
    ['GET', '/v1/instances/select?country=DE&state=BY', '"state" in the query string (allowed: country, stateProvince)'],
    ['DELETE', '/v1/subscriptions/glucose?force=1', '"force"'],
    ['POST', '/v1/subscriptions/glucose/rotate-key?now=1', '"now"'],
  ];
  for (const [method, path, named] of queries) {
    const r = await call(method, path);
    t.same([r.status, r.json?.code], [400, 'HVG_ERR_VALIDATION'], `${method} ${path} → 400`);
    t.ok(r.json?.message?.includes(`unknown query parameter ${named}`), `${method} ${path}: ${r.json?.message}`);
  }

  // a route that takes no body refuses one that says something
  const body = await call('POST', '/v1/reconcile', { dryRun: true });
  t.same([body.status, body.json?.code], [400, 'HVG_ERR_VALIDATION']);
  t.match(body.json?.message, /POST \/v1\/reconcile takes no request body \(got "dryRun"\)/);

  // what is allowed still works
  const ok = await call('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], instances: null });
  t.equal(ok.status, 201, 'a correct PUT is accepted');
  t.equal((await call('POST', '/v1/reconcile?dryRun=true')).status, 200, 'a declared query parameter is accepted');
  t.equal((await call('POST', '/v1/reconcile?dryRun=true', {})).status, 200, 'an empty JSON body on a body-less route is accepted');
  t.equal((await call('GET', '/v1/subscriptions')).status, 200);
});

t.test('the OpenAPI document says additionalProperties: false', async (t) => {
  const { adminUrl } = await startApp(t);
  const r = await request(`${adminUrl}/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const doc = (await r.body.json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { additionalProperties?: unknown } }> } }>> };
  const put = doc.paths['/v1/subscriptions/{name}']?.put?.requestBody?.content['application/json']?.schema;
  t.equal(put?.additionalProperties, false, 'PUT /v1/subscriptions/{name} body');
  let bodies = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [type, c] of Object.entries(op.requestBody?.content ?? {})) {
        bodies++;
        t.equal(c.schema.additionalProperties, false, `${method.toUpperCase()} ${path} ${type}`);
      }
    }
  }
  t.ok(bodies >= 1, `${bodies} request bodies checked`);
});
