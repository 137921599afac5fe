// Notifications from thing changes to a real local HTTP receiver: signature, filters, batching,
// retries with backoff (time-scaled), horizon, key rotation, rewrites (healthvault-protocol.md §2).
import t from 'tap';
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from 'undici';
import {
  buildSubscribeToEventInfo, buildUpdateEventSubscriptionInfo, parseNotificationAuthorization, parseNotificationBody,
  parseSubscribeToEventResponse, verifyNotification,
} from '../../src/healthvault/index.ts';
import type { SimulatorConfig } from '../../src/simulator/sim-config.ts';
import { call, cast, client, eventually, GLUCOSE, KEY_A, NOTIFY_URL, PRESSURE, startReceiver, startSim, WEIGHT } from './helpers.ts';
import type { ReceivedPost, Receiver, TestSession } from './helpers.ts';

const KEY_B = Buffer.alloc(64, 11).toString('base64');

async function setup(t: Test, config: SimulatorConfig = {}) {
  const receiver = await startReceiver(t);
  const sim = await startSim(t, { deliveryRewrites: [{ from: 'https://gw.test/', to: receiver.base }], timeScale: 3000, ...config });
  const agent = client(t);
  const us = sim.instance('1');
  const session = await cast(t, agent, us.info.platformUrl);
  return { receiver, sim, agent, us, session };
}

async function subscribe(t: Test, agent: Agent, s: TestSession, key = KEY_A, keyVersionId = 'gw-1', typeIds = [[WEIGHT, GLUCOSE]], url = NOTIFY_URL): Promise<string> {
  return parseSubscribeToEventResponse(await call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key, keyVersionId, url, typeIds })));
}

function verify(post: ReceivedPost, keys: Record<string, string>) {
  const auth = parseNotificationAuthorization(post.headers.authorization);
  const key = keys[auth.keyVersionId];
  return { auth, ok: key !== undefined && verifyNotification(auth, Buffer.from(key, 'base64'), post.body), body: parseNotificationBody(post.body) };
}

t.test('a thing change is delivered once, signed with the subscription key, to the rewritten URL', async (t) => {
  const { receiver, agent, us, session } = await setup(t);
  const subId = await subscribe(t, agent, session);
  const person = us.createPerson('Ada');
  const thing = us.addThing(person.recordId, WEIGHT);
  const [post] = await eventually(() => receiver.posts.length === 1 && receiver.posts, 3000, 'the notification');
  if (post === undefined) throw new Error('no post');
  t.equal(post.url, '/hv/notifications/us', 'https://gw.test/ rewritten to the local receiver, path kept');
  t.match(post.headers['content-type'], /^text\/xml/);
  const { auth, ok, body } = verify(post, { 'gw-1': KEY_A });
  t.equal(auth.subscriptionId, subId);
  t.equal(auth.keyVersionId, 'gw-1');
  t.ok(ok, 'HMAC-SHA256 over the raw body verifies with the codec');
  t.same(body.notifications, [{ subscriptionId: subId, personId: person.personId, recordId: person.recordId, thingIds: [thing.thingId] }]);

  const log = await eventually(() => us.deliveries({ state: 'delivered' })[0], 2000, 'the log entry');
  t.same([log.attempts, log.url, log.target, log.notificationCount, log.subscriptionIds], [1, NOTIFY_URL, `${receiver.base}hv/notifications/us`, 1, [subId]]);
  t.equal(log.lastStatus, 200);

  us.addThing(person.recordId, PRESSURE);
  await sleep(150);
  t.equal(receiver.posts.length, 1, 'a type no filter names produces nothing');
  us.updateThing(thing.thingId);
  await eventually(() => receiver.posts.length === 2, 3000, 'update notification');
  us.deleteThing(thing.thingId);
  await eventually(() => receiver.posts.length === 3, 3000, 'delete notification');
  t.same(receiver.posts.map((p) => parseNotificationBody(p.body).notifications[0]?.thingIds), [[thing.thingId], [thing.thingId], [thing.thingId]]);
  // The receiver sees the POST a moment before the simulator reads the 200.
  await eventually(() => us.stats().delivery.delivered === 3, 2000, 'three delivered in the log');
});

t.test('only subscriptions of the instance where the change happened are notified', async (t) => {
  const { receiver, sim, agent, session } = await setup(t);
  await subscribe(t, agent, session);
  const eu = sim.instance('2');
  const person = eu.createPerson();
  eu.addThing(person.recordId, WEIGHT);
  await sleep(200);
  t.equal(receiver.posts.length, 0);
  t.equal(eu.stats().delivery.changes, 1);
  t.equal(eu.stats().delivery.notifications, 0);
});

t.test('non-200 answers and timeouts are retried with doubling intervals until 200', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { retryFirstSeconds: 60, timeScale: 3000, deliveryTimeoutMs: 250 });
  await subscribe(t, agent, session);
  receiver.statuses = [500, 503, 202];
  const person = us.createPerson();
  us.addThing(person.recordId, GLUCOSE);
  const pending = await eventually(() => us.deliveries({ state: 'pending' }).find((b) => b.attempts >= 1), 3000, 'a pending retry');
  t.ok(pending.nextAttemptAt !== undefined, 'the next attempt time is visible');
  await eventually(() => receiver.posts.length === 4, 5000, 'four attempts');
  const batch = await eventually(() => us.deliveries({ state: 'delivered' })[0], 2000, 'delivered');
  t.equal(batch.attempts, 4);
  t.same(batch.history.map((h) => h.status), [500, 503, 202, 200], 'only 200 counts (202 is a failure)');
  t.ok(receiver.posts.every((p) => verify(p, { 'gw-1': KEY_A }).ok), 'every attempt is signed');
  t.ok(receiver.posts.every((p) => p.body.equals(receiver.posts[0]?.body ?? Buffer.alloc(0))), 'the same body each time');
  const gaps = receiver.posts.slice(1).map((p, i) => p.at - (receiver.posts[i]?.at ?? 0));
  // 60 s / 3000 = 20 ms, then 40, 80 (timers may fire a little late, never early).
  t.ok((gaps[0] ?? 0) >= 18 && (gaps[1] ?? 0) >= 38 && (gaps[2] ?? 0) >= 78, `gaps double: ${gaps.join(', ')} ms`);
  t.ok((gaps[2] ?? 0) > (gaps[0] ?? 0), 'increasing');

  receiver.delayMs = 600;
  us.addThing(person.recordId, GLUCOSE);
  const timedOut = await eventually(() => us.deliveries().find((b) => b.history.some((h) => h.error !== undefined)), 3000, 'a timed-out attempt');
  t.match(timedOut.history[0]?.error, /timeout/i, 'no answer in time = failure');
  receiver.delayMs = 0;
  await eventually(() => us.deliveries({ state: 'delivered' }).length === 2, 5000, 'delivered after the timeout');
});

t.test('gives up at the horizon: failed, with the attempts in the log', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { retryFirstSeconds: 60, retryMaxIntervalSeconds: 120, retryHorizonSeconds: 600, timeScale: 1000 });
  await subscribe(t, agent, session);
  receiver.statuses = Array(100).fill(500);
  us.addThing(us.createPerson().recordId, WEIGHT);
  const failed = await eventually(() => us.deliveries({ state: 'failed' })[0], 5000, 'failed');
  t.match(failed.lastError, /horizon/);
  // 0, 60, 180, 300, 420, 540 and a last try at the 600 ms horizon.
  t.ok(failed.attempts >= 6 && failed.attempts <= 8, `attempts ${failed.attempts}`);
  t.equal(failed.nextAttemptAt, undefined);
  t.equal(receiver.posts.length, failed.attempts);
});

t.test('batching: one POST per subscription within the window; records get one notification each', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { batchWindowMs: 80 });
  const a = await subscribe(t, agent, session);
  const b = await subscribe(t, agent, session, KEY_B, 'gw-b', [[WEIGHT]]);
  const p1 = us.createPerson();
  const p2 = us.createPerson();
  const t1 = us.addThing(p1.recordId, WEIGHT);
  const t2 = us.addThing(p1.recordId, WEIGHT);
  const t3 = us.addThing(p2.recordId, GLUCOSE);
  await eventually(() => receiver.posts.length === 2, 3000, 'two POSTs');
  await sleep(120);
  t.equal(receiver.posts.length, 2, 'no more');
  const bySub = Object.fromEntries(receiver.posts.map((p) => {
    const v = verify(p, { 'gw-1': KEY_A, 'gw-b': KEY_B });
    t.ok(v.ok, `signed for ${v.auth.subscriptionId}`);
    return [v.auth.subscriptionId, v.body.notifications];
  }));
  t.same(bySub[a], [
    { subscriptionId: a, personId: p1.personId, recordId: p1.recordId, thingIds: [t1.thingId, t2.thingId] },
    { subscriptionId: a, personId: p2.personId, recordId: p2.recordId, thingIds: [t3.thingId] },
  ]);
  t.same(bySub[b], [{ subscriptionId: b, personId: p1.personId, recordId: p1.recordId, thingIds: [t1.thingId, t2.thingId] }]);
});

t.test('batchAcrossSubscriptions: subscriptions sharing a URL share a POST, signed with the first one', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { batchAcrossSubscriptions: true, batchWindowMs: 80 });
  const a = await subscribe(t, agent, session, KEY_A, 'gw-1', [[WEIGHT]]);
  const b = await subscribe(t, agent, session, KEY_B, 'gw-b', [[PRESSURE]]);
  const p = us.createPerson();
  us.addThing(p.recordId, WEIGHT);
  us.addThing(p.recordId, PRESSURE);
  await eventually(() => receiver.posts.length === 1, 3000, 'one POST');
  await sleep(120);
  t.equal(receiver.posts.length, 1);
  const [post] = receiver.posts;
  if (post === undefined) throw new Error('no post');
  const v = verify(post, { 'gw-1': KEY_A });
  t.equal(v.auth.subscriptionId, a, 'the header names the first subscription (§2.6)');
  t.ok(v.ok, 'signed with its key');
  t.same(v.body.notifications.map((n) => n.subscriptionId), [a, b]);
  t.same(us.deliveries()[0]?.subscriptionIds, [a, b]);
});

t.test('maxNotificationsPerBatch splits a burst', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { maxNotificationsPerBatch: 2, batchWindowMs: 100 });
  await subscribe(t, agent, session);
  for (let i = 0; i < 5; i++) us.addThing(us.createPerson().recordId, WEIGHT);
  await eventually(() => receiver.posts.length === 3, 3000, 'three POSTs');
  t.same(receiver.posts.map((p) => parseNotificationBody(p.body).notifications.length).sort(), [1, 2, 2]);
});

t.test('a retry after key rotation is signed with the new key version', async (t) => {
  const { receiver, agent, us, session } = await setup(t, { retryFirstSeconds: 60, timeScale: 300 });
  const id = await subscribe(t, agent, session);
  receiver.statuses = [500];
  us.addThing(us.createPerson().recordId, WEIGHT);
  await eventually(() => receiver.posts.length === 1, 3000, 'first attempt');
  t.equal((await call(t, agent, session, 'UpdateEventSubscription', 1, buildUpdateEventSubscriptionInfo({
    id, key: KEY_B, keyVersionId: 'gw-2', url: NOTIFY_URL, typeIds: [[WEIGHT]],
  }))).code, 0);
  await eventually(() => receiver.posts.length === 2, 3000, 'the retry');
  const [first, second] = receiver.posts.map((p) => verify(p, { 'gw-1': KEY_A, 'gw-2': KEY_B }));
  t.same([first?.auth.keyVersionId, first?.ok, second?.auth.keyVersionId, second?.ok], ['gw-1', true, 'gw-2', true]);
});

t.test('rewrites set at run time; a deleted subscription\'s queued batch fails', async (t) => {
  const other: Receiver = await startReceiver(t);
  const { receiver, sim, agent, us, session } = await setup(t, { retryFirstSeconds: 60, timeScale: 600 });
  const id = await subscribe(t, agent, session);
  sim.setDeliveryRewrites([{ from: 'https://gw.test/hv/', to: `${other.base}x/` }]);
  us.addThing(us.createPerson().recordId, WEIGHT);
  await eventually(() => other.posts.length === 1, 3000, 'delivery to the new target');
  t.equal(other.posts[0]?.url, '/x/notifications/us');
  t.equal(receiver.posts.length, 0);

  other.statuses = [500];
  us.addThing(us.createPerson().recordId, WEIGHT);
  await eventually(() => other.posts.length === 2, 3000, 'failed attempt');
  us.deleteSubscription(id);
  const failed = await eventually(() => us.deliveries({ state: 'failed' })[0], 3000, 'given up');
  t.match(failed.lastError, /subscription deleted/);
});
