// The strict-platform behaviours as simulator switches (issue 13 point 7), over real sockets:
// config `quirks` for every instance, PUT /_sim/instances/{id}/quirks per instance.
import t from 'tap';
import { request } from 'undici';
import type { Agent } from 'undici';
import {
  buildGetEventSubscriptionsInfo, buildSubscribeToEventInfo, buildUpdateEventSubscriptionInfo, parseGetEventSubscriptionsListing,
  parseGetEventSubscriptionsResponse, parseNotificationAuthorization, parseSubscribeToEventResponse, verifyNotification,
} from '../../src/healthvault/index.ts';
import { call, cast, client, eventually, KEY_A, startReceiver, startSim, WEIGHT } from './helpers.ts';

async function control(agent: Agent, url: string, method: 'GET' | 'PUT' | 'POST', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url, { dispatcher: agent, method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.statusCode, json: await res.body.json() as Record<string, unknown> };
}

t.test('forget sessions: the old token is answered 65 by default, 8 with unknownTokenStatus 8', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const quirks = `${sim.controlUrl}/_sim/instances/1/quirks`;
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo())).code, 0);
  t.same((await control(agent, `${sim.controlUrl}/_sim/instances/1/forget-sessions`, 'POST')).json, { forgotten: 1 });
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo())).code, 65);
  t.equal((await control(agent, quirks, 'PUT', { unknownTokenStatus: 8 })).json.unknownTokenStatus, 8);
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo())).code, 8);
  const bad = await control(agent, quirks, 'PUT', { unknownTokenStatus: 7, nonsense: true });
  t.equal(bad.status, 400, 'unknown quirks and bad values are refused');
  t.same((await control(agent, `${sim.controlUrl}/_sim/instances/2/quirks`, 'GET')).json.unknownTokenStatus, 65, 'per instance');
});

t.test('normaliseUrls: stored and echoed WHATWG-normalised, unreserved escapes decoded', async (t) => {
  const sim = await startSim(t, { quirks: { normaliseUrls: true } });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  parseSubscribeToEventResponse(await call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key: KEY_A, keyVersionId: 'v1', url: 'https://GW.test:443/%68v/notifications/%7e1', typeIds: [[WEIGHT]] })));
  const [listed] = parseGetEventSubscriptionsResponse(await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo()));
  t.equal(listed?.url, 'https://gw.test/hv/notifications/~1');
});

t.test('oddForeignSubscriptions: listed raw, refused by the strict reader, counted against the limit', async (t) => {
  const sim = await startSim(t, { subscriptionLimit: 3, quirks: { oddForeignSubscriptions: ['http-url', 'unknown-channel'] } });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const answer = await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo());
  t.throws(() => parseGetEventSubscriptionsResponse(answer), /must be an absolute https:\/\/ URL/, 'the strict reader refuses the listing');
  const { subscriptions, unreadable } = parseGetEventSubscriptionsListing(answer);
  t.same([subscriptions.length, unreadable.map((u) => u.url)], [0, ['http://other-app.example/hv/notify', undefined]]);
  const sub = (url: string) => call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key: KEY_A, keyVersionId: 'v1', url, typeIds: [[WEIGHT]] }));
  t.equal((await sub('https://gw.test/hv/a')).code, 0);
  t.equal((await sub('https://gw.test/hv/b')).code, 133, '2 odd + 1 = the limit of 3');
  const view = await control(agent, `${sim.controlUrl}/_sim/instances/1/quirks`, 'PUT', { oddForeignSubscriptions: [] });
  t.same(view.json.oddSubscriptionIds, []);
});

t.test('signWithQueuedKey keeps the key of the queueing time across a rotation; notificationEncodingDeclaration mislabels the body', async (t) => {
  const receiver = await startReceiver(t);
  receiver.statuses = [500]; // the first attempt fails: the retry comes after the rotation
  const sim = await startSim(t, { deliveryRewrites: [{ from: 'https://gw.test/', to: receiver.base }], quirks: { signWithQueuedKey: true, notificationEncodingDeclaration: 'utf-16' } });
  const agent = client(t);
  const us = sim.instance('1');
  const s = await cast(t, agent, us.info.platformUrl);
  const url = 'https://gw.test/hv/notifications/1/w';
  const id = parseSubscribeToEventResponse(await call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key: KEY_A, keyVersionId: 'v1', url, typeIds: [[WEIGHT]] })));
  us.addThing(us.createPerson().recordId, WEIGHT);
  const failedOnce = () => eventually(() => us.deliveries({ state: 'pending' }).some((b) => b.lastStatus === 500 && b.nextAttemptAt !== undefined), 3000, 'a failed attempt, retry scheduled');
  await failedOnce();
  const keyB = Buffer.alloc(64, 9);
  t.equal((await call(t, agent, s, 'UpdateEventSubscription', 1, buildUpdateEventSubscriptionInfo({ id, key: keyB, keyVersionId: 'v2', url, typeIds: [[WEIGHT]] }))).code, 0);
  us.delivery.retryNow();
  await eventually(() => receiver.posts.length === 2, 3000, 'the retry');
  for (const p of receiver.posts) {
    const auth = parseNotificationAuthorization(String(p.headers.authorization));
    t.equal(auth.keyVersionId, 'v1', 'signed with the key current when queued');
    t.ok(verifyNotification(auth, Buffer.from(KEY_A, 'base64'), p.body));
    t.match(p.body.toString('utf8'), /^<\?xml version="1.0" encoding="utf-16"\?><wc:notifications/, 'UTF-8 bytes under a utf-16 declaration');
  }
  // without the quirk, the retry carries the current key (the default)
  us.setQuirks({ signWithQueuedKey: false });
  receiver.statuses = [500];
  us.addThing(us.createPerson().recordId, WEIGHT);
  await failedOnce();
  us.delivery.retryNow();
  await eventually(() => receiver.posts.length === 4, 3000, 'fourth');
  t.equal(parseNotificationAuthorization(String(receiver.posts[3]!.headers.authorization)).keyVersionId, 'v2');
});
