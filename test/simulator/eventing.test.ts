// SubscribeToEvent / GetEventSubscriptions / UpdateEventSubscription / UnsubscribeToEvent v1 and
// their rules, over real HTTP (healthvault-protocol.md §1), plus drift made through the control API.
import t from 'tap';
import type { Test } from 'tap';
import { request } from 'undici';
import {
  buildGetEventSubscriptionsInfo, buildSubscribeToEventInfo, buildUnsubscribeToEventInfo, buildUpdateEventSubscriptionInfo,
  parseGetEventSubscriptionsResponse, parseSubscribeToEventResponse,
} from '../../src/healthvault/index.ts';
import type { EventSubscriptionSpec } from '../../src/healthvault/index.ts';
import type { Agent } from 'undici';
import { call, cast, client, GLUCOSE, KEY_A, NOTIFY_URL, PRESSURE, startSim, WEIGHT } from './helpers.ts';
import type { TestSession } from './helpers.ts';

const spec: EventSubscriptionSpec = { key: KEY_A, keyVersionId: 'gw-1', url: NOTIFY_URL, typeIds: [[WEIGHT, GLUCOSE]] };

async function subscribe(t: Test, agent: Agent, s: TestSession, overrides: Partial<EventSubscriptionSpec> = {}) {
  return call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ ...spec, ...overrides }));
}
async function list(t: Test, agent: Agent, s: TestSession) {
  return parseGetEventSubscriptionsResponse(await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo()));
}

t.test('round trip: subscribe, get, update (key rotation), unsubscribe', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const id = parseSubscribeToEventResponse(await subscribe(t, agent, s));
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'lower-case GUID assigned by the platform');

  const [listed, ...rest] = await list(t, agent, s);
  t.same(rest, []);
  t.equal(listed?.id, id);
  t.equal(listed?.url, NOTIFY_URL);
  t.equal(listed?.keyVersionId, 'gw-1');
  t.equal(listed?.keyBase64, KEY_A, 'key echoed [I]');
  t.same(listed?.typeIds, [[WEIGHT, GLUCOSE]]);

  const newKey = Buffer.alloc(64, 9).toString('base64');
  const updated = await call(t, agent, s, 'UpdateEventSubscription', 1, buildUpdateEventSubscriptionInfo({
    id, key: newKey, keyVersionId: 'gw-2', url: 'https://gw.test/hv/notifications/us2', typeIds: [[PRESSURE], [WEIGHT]],
  }));
  t.equal(updated.code, 0);
  t.equal(updated.info, undefined, 'status-only answer [I]');
  const [after] = await list(t, agent, s);
  t.same({ key: after?.keyBase64, v: after?.keyVersionId, url: after?.url, types: after?.typeIds },
    { key: newKey, v: 'gw-2', url: 'https://gw.test/hv/notifications/us2', types: [[PRESSURE], [WEIGHT]] });

  t.equal((await call(t, agent, s, 'UnsubscribeToEvent', 1, buildUnsubscribeToEventInfo(id))).code, 0);
  t.same(await list(t, agent, s), []);
  t.equal((await call(t, agent, s, 'UnsubscribeToEvent', 1, buildUnsubscribeToEventInfo(id))).code, 132, 'already gone → 132');
});

t.test('134 SUBSCRIPTION_INVALID: id on create, URL outside the ActionURL root, bad key or version, no https', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const withId = buildSubscribeToEventInfo(spec).replace('<common>', '<common><id>11111111-2222-4333-8444-555555555555</id>');
  const r1 = await call(t, agent, s, 'SubscribeToEvent', 1, withId);
  t.equal(r1.code, 134, 'an id on create');
  t.match(r1.error?.message, /assigns/);
  const r2 = await subscribe(t, agent, s, { url: 'https://elsewhere.test/hv/x' });
  t.equal(r2.code, 134, 'another host');
  t.match(r2.error?.message, /ActionURL root https:\/\/gw\.test\/hv\//);
  t.equal((await subscribe(t, agent, s, { url: 'https://gw.test/other/x' })).code, 134, 'same host, outside the root path');
  const info = buildSubscribeToEventInfo(spec);
  t.equal((await call(t, agent, s, 'SubscribeToEvent', 1, info.replace(KEY_A, Buffer.alloc(32).toString('base64')))).code, 134, '32-byte key');
  t.equal((await call(t, agent, s, 'SubscribeToEvent', 1, info.replace('>gw-1<', '>gw_1!<'))).code, 134, 'key version pattern');
  t.equal((await call(t, agent, s, 'SubscribeToEvent', 1, info.replace('https://gw.test', 'http://gw.test'))).code, 134, 'http URL');
  t.equal((await call(t, agent, s, 'SubscribeToEvent', 1, info.replace(/<filters>.*<\/filters>/, '<filters></filters>'))).code, 134, 'no filter');
  t.same(await list(t, agent, s), [], 'nothing was created');
});

t.test('enforceActionUrlRoot: false accepts any https URL (PPE behaviour)', async (t) => {
  const sim = await startSim(t, { enforceActionUrlRoot: false });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  t.equal((await subscribe(t, agent, s, { url: 'https://anywhere.test/x' })).code, 0);
  const http = buildSubscribeToEventInfo({ ...spec, url: 'https://anywhere.test/x' }).replace('https://', 'http://');
  t.equal((await call(t, agent, s, 'SubscribeToEvent', 1, http)).code, 134, 'https is still required');
});

t.test('133 at the limit (per app, per instance) and 132 for unknown ids', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const us = await cast(t, agent, sim.instance('1').info.platformUrl);
  for (let i = 0; i < 25; i++) t.equal((await subscribe(t, agent, us)).code, 0, `subscription ${i + 1}`);
  const over = await subscribe(t, agent, us);
  t.equal(over.code, 133, '26th → 133');
  t.equal((await list(t, agent, us)).length, 25);
  const eu = await cast(t, agent, sim.instance('2').info.platformUrl);
  t.equal((await subscribe(t, agent, eu)).code, 0, 'the limit counts per instance');
  t.equal((await list(t, agent, eu)).length, 1, 'subscriptions are per instance');

  const ghost = '0e0e0e0e-1111-4222-8333-444444444444';
  t.equal((await call(t, agent, us, 'UpdateEventSubscription', 1, buildUpdateEventSubscriptionInfo({ ...spec, id: ghost }))).code, 132);
  t.equal((await call(t, agent, us, 'UnsubscribeToEvent', 1, buildUnsubscribeToEventInfo(ghost))).code, 132);
  t.equal((await call(t, agent, us, 'UnsubscribeToEvent', 1, '<info><subscription-id>nope</subscription-id></info>')).code, 3, 'malformed id → 3 [I]');
});

t.test('a configurable limit', async (t) => {
  const sim = await startSim(t, { subscriptionLimit: 1 });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('2').info.platformUrl);
  t.equal((await subscribe(t, agent, s)).code, 0);
  t.equal((await subscribe(t, agent, s)).code, 133);
});

t.test('control API: list, create, alter and delete subscriptions behind the app\'s back', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const id = parseSubscribeToEventResponse(await subscribe(t, agent, s));
  const base = `${sim.controlUrl}/_sim/instances/1/subscriptions`;
  const json = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
    const res = await request(url, { dispatcher: agent, method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    return { status: res.statusCode, body: await res.body.json() as Record<string, unknown> & Record<number, Record<string, unknown>> };
  };
  const listed = await json('GET', base);
  t.equal(listed.status, 200);
  t.equal((listed.body as unknown as { id: string }[])[0]?.id, id);

  const altered = await json('PATCH', `${base}/${id}`, { url: 'https://gw.test/hv/drifted', typeIds: [[PRESSURE]] });
  t.equal(altered.status, 200);
  const [seen] = await list(t, agent, s);
  t.equal(seen?.url, 'https://gw.test/hv/drifted', 'the app sees the drift');
  t.same(seen?.typeIds, [[PRESSURE]]);
  t.equal(seen?.keyVersionId, 'gw-1', 'untouched fields stay');

  const bad = await json('PATCH', `${base}/${id}`, { keyVersionId: 'not valid!' });
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'HVG_ERR_VALIDATION');
  t.equal((await json('PATCH', `${base}/${id}`, { colour: 'red' })).status, 400, 'unknown field refused');

  const foreign = await json('POST', base, { appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: 'https://foreign.test/x', keyVersionId: 'f1', typeIds: [[WEIGHT]] });
  t.equal(foreign.status, 201, 'a foreign subscription (outside the ActionURL root) can be planted');
  t.equal((await list(t, agent, s)).length, 2);

  t.equal((await json('DELETE', `${base}/${id}`)).status, 200);
  t.equal((await json('DELETE', `${base}/${id}`)).status, 404);
  t.same((await list(t, agent, s)).map((x) => x.url), ['https://foreign.test/x']);
  t.equal((await json('GET', `${sim.controlUrl}/_sim/instances/9/subscriptions`)).status, 404, 'unknown instance');
});
