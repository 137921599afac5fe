// Issue 13 point 4 end to end: authentic but unreadable content is dead-lettered with 200, never a
// 4xx the platform would retry for 10 days. Simulator (quirk notificationEncodingDeclaration) and
// hand-signed bodies over real sockets → gateway → the real broker.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { buildNotificationBody, notificationAuthorizationFor, type RecordChangeNotification } from '../../src/healthvault/index.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import { MASTER_SECRET } from '../helpers/env.ts';
import { readRecords, topicEndOffset } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim, WEIGHT, type Gateway } from '../helpers/stack.ts';

const keys = new KeyDeriver(MASTER_SECRET);

async function subscribed(t: Test, gw: Gateway, sim: Simulator, name: string, typeIds: string[]): Promise<string> {
  t.equal((await gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds })).status, 201);
  await eventually(`${name} in sync`, () => gw.admin('GET', `/v1/subscriptions/${name}`), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  return ours(sim, '1').find((s) => s.url.endsWith(`/${name}`))!.id.toLowerCase();
}

/** POST a body signed with the gateway's key for (instance 1, name, v1), as the platform would. */
async function deliver(gw: Gateway, name: string, subscriptionId: string, body: string) {
  const res = await request(`${gw.url}/notifications/1/${name}`, {
    method: 'POST', body, headers: { 'content-type': 'text/xml', authorization: notificationAuthorizationFor(subscriptionId, 'v1', keys.key('1', name, 1), body) },
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) };
}

const entry = (subscriptionId: string): RecordChangeNotification => ({ subscriptionId, personId: randomUUID(), recordId: randomUUID(), thingIds: [randomUUID()] });

t.test('an encoding declaration that does not match the bytes: 200, the raw body in the dead-letter topic; Kafka down: 503 and nothing lost', async (t) => {
  const sim = await startSim(t, { quirks: { notificationEncodingDeclaration: 'utf-16' } });
  const gw = await startGateway(t, sim);
  const glucose = await subscribed(t, gw, sim, 'glucose', [GLUCOSE]);
  const us = sim.instance('1');
  us.addThing(us.createPerson().recordId, GLUCOSE);
  const [batch] = await eventually('delivered', () => us.deliveries(), (l) => l.length === 1 && l[0]!.state === 'delivered');
  t.same([batch!.attempts, batch!.lastStatus], [1, 200], 'answered 200 at the first attempt');
  const body = `<?xml version="1.0" encoding="utf-16"?>${buildNotificationBody(batch!.notifications)}`;
  const [dead] = await readRecords(gw.deadLetterTopic, 1);
  t.equal(dead?.value, body, 'the raw body, byte for byte');
  t.same(
    [dead?.key, dead?.headers.hv_instance_id, dead?.headers.hv_subscription_name, dead?.headers.hv_subscription_id, dead?.headers.hv_dead_letter_reason],
    [`1:${glucose}`, '1', 'glucose', glucose, 'unreadable'],
  );
  t.match(dead?.headers.hv_dead_letter_detail, /utf-16|encoding/i, 'the reader says why');
  t.equal(await topicEndOffset(gw.topic), 0, 'no event');
  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  t.match(metrics, /hv_gateway_notifications_dead_lettered_total\{instance="1",reason="unreadable"\} 1/);

  // Kafka gone for this gateway: the platform gets 503 and keeps the batch; a replica with the same topics takes it
  await gw.app.sink.close();
  const thing = us.addThing(us.createPerson().recordId, GLUCOSE).thingId;
  const refused = await eventually('refused', () => us.deliveries(), (l) => l.length === 2 && l.some((b) => b.lastStatus === 503));
  t.ok(refused.every((b) => b.state !== 'failed'), 'the platform keeps it for a retry');
  await gw.app.close();
  const gw2 = await startGateway(t, sim, { KAFKA_TOPIC: gw.topic, KAFKA_STATE_TOPIC: gw.stateTopic, KAFKA_DEAD_LETTER_TOPIC: gw.deadLetterTopic });
  t.ok(gw2.url);
  const after = await eventually('delivered by a retry', () => us.deliveries(), (l) => l.length === 2 && l.every((b) => b.state === 'delivered'), 30_000);
  const retried = after.find((b) => b.notifications.some((n) => n.thingIds.includes(thing)))!;
  t.ok(retried.attempts > 1 && retried.history.some((h) => h.status === 503), 'it was refused with 503 first');
  const all = await readRecords(gw.deadLetterTopic, 2);
  t.ok(all.some((r) => r.value === `<?xml version="1.0" encoding="utf-16"?>${buildNotificationBody(retried.notifications)}`), 'nothing lost: the refused body is in the dead-letter topic after the retry');
});

t.test('signed bodies: unknown kinds and foreign ids are dead-lettered, our other subscription is an event, a wrong header id stays 403', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  const glucose = await subscribed(t, gw, sim, 'glucose', [GLUCOSE]);
  const weight = await subscribed(t, gw, sim, 'weight', [WEIGHT]);

  // an unknown notification kind (a future platform version)
  const known = entry(glucose);
  const unknown = buildNotificationBody([known]).replace('</wc:notifications>', `<notification><common><subscription-id>${glucose}</subscription-id></common><thing-deleted-notification/></notification></wc:notifications>`);
  t.same(await deliver(gw, 'glucose', glucose, unknown), { status: 200, json: { produced: 1, deadLettered: 1 } }, 'unknown kind');

  // one body, this URL's subscription and another of ours in the same instance
  const mine = entry(glucose);
  const sibling = entry(weight);
  t.same(await deliver(gw, 'glucose', glucose, buildNotificationBody([mine, sibling])), { status: 200, json: { produced: 2, deadLettered: 0 } }, 'mixed ours');

  // an entry whose subscription id is none of ours in instance 1 (EU's glucose is ours, but in instance 2)
  const euGlucose = ours(sim, '2').find((s) => s.url.endsWith('/glucose'))!.id.toLowerCase();
  const foreignBody = buildNotificationBody([entry(euGlucose)]);
  t.same(await deliver(gw, 'glucose', glucose, foreignBody), { status: 200, json: { produced: 0, deadLettered: 1 } }, 'foreign id');

  // the header naming a subscription that is not this URL's: authentication, still refused
  const wrong = await deliver(gw, 'glucose', weight, buildNotificationBody([entry(weight)]));
  t.same([wrong.status, wrong.json.code], [403, 'HVG_ERR_SUBSCRIPTION_MISMATCH'], 'wrong header subscription id');

  const events = new Map((await readRecords(gw.topic, 3)).map((r) => [JSON.parse(r.value).recordId as string, r.headers]));
  t.same([events.get(known.recordId)?.hv_subscription_name, events.get(mine.recordId)?.hv_subscription_name, events.get(sibling.recordId)?.hv_subscription_name], ['glucose', 'glucose', 'weight']);
  t.same([events.get(mine.recordId)?.hv_subscription_id, events.get(sibling.recordId)?.hv_subscription_id], [glucose, weight], 'each tagged with its own subscription');
  const dead = new Map((await readRecords(gw.deadLetterTopic, 2)).map((r) => [r.headers.hv_dead_letter_reason, r]));
  t.same([dead.get('unknown-kind')?.value, dead.get('unknown-kind')?.headers.hv_dead_letter_entries], [unknown, '2']);
  t.same([dead.get('foreign-subscription')?.value, dead.get('foreign-subscription')?.headers.hv_subscription_id], [foreignBody, glucose]);
  t.same([await topicEndOffset(gw.topic), await topicEndOffset(gw.deadLetterTopic)], [3, 2], 'nothing more');
});
