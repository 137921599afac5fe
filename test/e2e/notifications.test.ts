// Issue 6's checks end to end: simulator (two instances) → gateway → Kafka, over real HTTP.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { buildNotificationBody, notificationAuthorizationFor } from '../../src/healthvault/index.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { MASTER_SECRET } from '../helpers/env.ts';
import { freePortPair, OwnBroker, readRecords, topicEndOffset } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim, WEIGHT, type Gateway } from '../helpers/stack.ts';

async function subscribed(t: Test, gw: Gateway, sim: Simulator, name: string, typeIds: string[]) {
  t.equal((await gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds })).status, 201);
  await eventually(`${name} in sync`, () => gw.admin('GET', `/v1/subscriptions/${name}`), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  for (const id of ['1', '2']) t.equal(ours(sim, id).filter((s) => s.url.endsWith(`/${name}`)).length, 1);
}

const delivered = (sim: Simulator, id: string) => sim.instance(id).deliveries().filter((b) => b.state === 'delivered').reduce((n, b) => n + b.notificationCount, 0);

t.test('thing changes in both instances reach Kafka, each tagged with its instance; count in = count out', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  await subscribed(t, gw, sim, 'glucose', [GLUCOSE]);
  const expected = new Map<string, string>(); // thing id → instance
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    for (let p = 0; p < 5; p++) {
      const person = inst.createPerson();
      for (let k = 0; k < 4; k++) expected.set(inst.addThing(person.recordId, GLUCOSE).thingId, id);
      inst.addThing(person.recordId, WEIGHT); // not subscribed: no notification
    }
  }
  await eventually('every batch delivered', () => ['1', '2'].map((id) => sim.instance(id).deliveries()), (l) => l.flat().length > 0 && l.flat().every((b) => b.state === 'delivered'), 20_000);
  const notifications = delivered(sim, '1') + delivered(sim, '2');
  t.ok(notifications > 0 && notifications <= expected.size, `${notifications} notifications delivered for ${expected.size} thing changes`);
  t.equal(await topicEndOffset(gw.topic), notifications, 'count in = count out');
  const records = await readRecords(gw.topic, notifications);
  const seen = new Map<string, string>();
  for (const r of records) {
    const v = JSON.parse(r.value);
    t.equal(r.headers.hv_instance_id, v.instanceId);
    t.equal(r.key, `${v.instanceId}:${v.recordId}`);
    for (const thing of v.thingIds) seen.set(thing, v.instanceId);
  }
  t.same([...seen.entries()].sort(), [...expected.entries()].sort(), 'every changed thing arrived, tagged with the instance it changed in');
});

t.test('key rotation end to end: both keys verify until the instance confirmed the new one and the horizon passed', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { KEY_RETRY_HORIZON_MS: '3000' });
  await subscribed(t, gw, sim, 'glucose', [GLUCOSE]);
  const rotated = await gw.admin('POST', '/v1/subscriptions/glucose/rotate-key');
  t.same([rotated.status, rotated.json.keyVersion, rotated.json.previousKeyVersion], [200, 2, 1]);
  for (const id of ['1', '2']) await eventually(`v2 registered in ${id}`, () => ours(sim, id)[0]?.keyVersionId, (v) => v === 'v2');
  const keys = new KeyDeriver(MASTER_SECRET);
  t.equal(Buffer.from(ours(sim, '1')[0]!.keyBase64, 'base64').toString('hex'), keys.key('1', 'glucose', 2).toString('hex'), 'the instance holds the derived v2 key');
  const hvId = ours(sim, '1')[0]!.id;
  const post = async (version: number) => {
    const body = buildNotificationBody([{ subscriptionId: hvId, personId: randomUUID(), recordId: randomUUID(), thingIds: [randomUUID()] }]);
    const res = await request(`${gw.url}/notifications/1/glucose`, { method: 'POST', body, headers: { authorization: notificationAuthorizationFor(hvId, `v${version}`, keys.key('1', 'glucose', version), body) } });
    const json = (await res.body.json()) as { code?: string };
    return [res.statusCode, json.code ?? 'ok'];
  };
  t.same(await post(1), [200, 'ok'], 'old key during the overlap');
  t.same(await post(2), [200, 'ok'], 'new key');
  // the simulator signs real deliveries with the current (new) key
  const inst = sim.instance('1');
  inst.addThing(inst.createPerson().recordId, GLUCOSE);
  await eventually('delivery with the new key', () => inst.deliveries(), (l) => l.some((b) => b.state === 'delivered' && b.history.at(-1)?.keyVersionId === 'v2'));
  await new Promise((r) => setTimeout(r, 3200));
  t.same(await post(1), [401, 'HVG_ERR_AUTH_UNKNOWN_KEY_VERSION'], 'old key after the overlap');
  t.same(await post(2), [200, 'ok']);
});

t.test('broker stopped and started during a stream: every notification arrives, nothing acknowledged is lost', async (t) => {
  const broker = new OwnBroker(await freePortPair());
  await broker.start();
  t.teardown(() => broker.stop());
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { KAFKA_PUBLISH_TIMEOUT_MS: '1500', KAFKA_CONNECT_TIMEOUT_MS: '20000', STORE_WRITE_TIMEOUT_MS: '5000' }, { brokers: [broker.address] });
  await subscribed(t, gw, sim, 'glucose', [GLUCOSE]);
  const things = new Set<string>();
  const change = () => {
    for (const id of ['1', '2']) {
      const inst = sim.instance(id);
      things.add(inst.addThing(inst.createPerson().recordId, GLUCOSE).thingId);
    }
  };
  // a stream of changes before, during and after the outage
  const started = Date.now();
  const at = (what: string) => t.comment(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  const stream = setInterval(change, 20);
  await new Promise((r) => setTimeout(r, 1000));
  await broker.stop();
  at('broker stopped');
  await eventually('the gateway refuses while Kafka is down', () => sim.instance('1').deliveries(), (l) => l.some((b) => b.lastStatus === 503), 15_000);
  await new Promise((r) => setTimeout(r, 1000));
  await broker.start(true);
  at('broker started');
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(stream);
  await eventually('the gateway is ready again', () => gw.app.sink.isReady(), (v) => v, 30_000);
  at('sink ready');
  const batches = await eventually('every batch delivered by the simulator’s retries', () => ['1', '2'].flatMap((id) => sim.instance(id).deliveries()), (l) => l.every((b) => b.state === 'delivered'), 60_000);
  at('all delivered');
  t.ok(batches.some((b) => b.attempts > 1), 'some batches needed retries');
  const notifications = batches.reduce((n, b) => n + b.notificationCount, 0);
  // read everything appended: a request answered 503 may still have been written (at-least-once),
  // so stopping after `notifications` records could stop before the last acknowledged one
  const records = await readRecords(gw.topic, await topicEndOffset(gw.topic, [broker.address]), 30_000, [broker.address]);
  at(`read back ${records.length} records`);
  const got = new Set(records.flatMap((r) => JSON.parse(r.value).thingIds as string[]));
  const missing = [...things].filter((th) => !got.has(th));
  if (missing.length > 0) {
    // seen once in CI (kafkajs pass, loaded machine) and not reproduced: say where the thing went
    const deadEnd = await topicEndOffset(gw.deadLetterTopic, [broker.address]).catch(() => 0);
    const dead = deadEnd > 0 ? await readRecords(gw.deadLetterTopic, deadEnd, 10_000, [broker.address]) : [];
    const holders = batches.filter((b) => b.notifications.some((n) => n.thingIds.some((th) => missing.includes(th))));
    t.comment(`missing ${JSON.stringify(missing)}; end offset ${await topicEndOffset(gw.topic, [broker.address])}, ${new Set(records.map((r) => `${r.partition}:${r.offset}`)).size} distinct offsets read`);
    t.comment(`dead-letter records ${dead.length}, holding a missing thing: ${dead.filter((r) => missing.some((th) => r.value.includes(th))).length}`);
    t.comment(`their deliveries: ${JSON.stringify(holders.map((b) => ({ state: b.state, attempts: b.attempts, lastStatus: b.lastStatus, history: b.history })))}`);
    t.comment(`sink ${JSON.stringify(gw.app.sink.stats())}`);
  }
  t.same(missing, [], `all ${things.size} changed things are in the topic`);
  const acked = batches.flatMap((b) => b.notifications.flatMap((n) => n.thingIds));
  t.ok(acked.every((th) => got.has(th)), 'every notification the simulator saw 200 for is in the topic');
  t.ok(records.length >= notifications, `${records.length} records for ${notifications} notifications (a 503 may still have been written: at-least-once)`);
});
