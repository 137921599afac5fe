// Faults per instance through the control API: down, slow, platform 5xx, drop notifications,
// expire tokens — and that one instance's fault leaves the other alone.
import t from 'tap';
import { request } from 'undici';
import type { Agent } from 'undici';
import { buildGetEventSubscriptionsInfo, buildSubscribeToEventInfo, parseSubscribeToEventResponse } from '../../src/healthvault/index.ts';
import { anonymous, call, cast, client, eventually, KEY_A, NOTIFY_URL, platform, post, startReceiver, startSim, WEIGHT } from './helpers.ts';

async function control(agent: Agent, url: string, method: 'GET' | 'PUT' | 'POST', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url, {
    dispatcher: agent, method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, json: await res.body.json() as Record<string, unknown> };
}

t.test('down: connections are refused and deliveries pause until the instance is back', async (t) => {
  const receiver = await startReceiver(t);
  const sim = await startSim(t, { deliveryRewrites: [{ from: 'https://gw.test/', to: receiver.base }] });
  const agent = client(t);
  const us = sim.instance('1');
  const s = await cast(t, agent, us.info.platformUrl);
  parseSubscribeToEventResponse(await call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key: KEY_A, keyVersionId: 'v1', url: NOTIFY_URL, typeIds: [[WEIGHT]] })));
  const faults = `${sim.controlUrl}/_sim/instances/1/faults`;

  const down = await control(agent, faults, 'PUT', { down: true });
  t.same(down.json, { down: true, slowMs: 0, platform5xx: false, dropNotifications: false });
  await t.rejects(post(agent, us.info.platformUrl, anonymous('GetServiceDefinition', 2, '<info/>')), 'the platform port answers nothing');
  t.equal((await platform(t, agent, sim.instance('2').info.platformUrl, anonymous('GetServiceDefinition', 2, '<info/>'))).code, 0, 'the other instance is fine');

  us.addThing(us.createPerson().recordId, WEIGHT);
  await eventually(() => us.deliveries({ state: 'pending' }).length === 1, 2000, 'a queued batch');
  await new Promise((r) => setTimeout(r, 150));
  t.equal(receiver.posts.length, 0, 'nothing is sent while down');

  t.equal((await control(agent, faults, 'PUT', { down: false })).json.down, false);
  await eventually(() => receiver.posts.length === 1, 3000, 'delivery after recovery');
  t.equal((await platform(t, agent, us.info.platformUrl, anonymous('GetServiceDefinition', 2, '<info/>'))).code, 0, 'answers again');
});

t.test('slow, platform5xx (always and for the next N requests), expire-tokens', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('2').info.platformUrl;
  const faults = `${sim.controlUrl}/_sim/instances/2/faults`;
  const gsd = anonymous('GetServiceDefinition', 2, '<info/>');

  await control(agent, faults, 'PUT', { slowMs: 200 });
  const started = Date.now();
  t.equal((await platform(t, agent, url, gsd)).code, 0);
  t.ok(Date.now() - started >= 190, 'answer delayed');
  const t0 = Date.now();
  await platform(t, agent, sim.instance('1').info.platformUrl, gsd);
  t.ok(Date.now() - t0 < 150, 'the other instance is not slowed');
  await control(agent, faults, 'PUT', { slowMs: 0 });

  await control(agent, faults, 'PUT', { platform5xx: true });
  const r500 = await post(agent, url, gsd);
  t.equal(r500.httpStatus, 500);
  t.equal((await post(agent, url, gsd)).httpStatus, 500, 'stays on');
  await control(agent, faults, 'PUT', { platform5xx: 2 });
  t.same([(await post(agent, url, gsd)).httpStatus, (await post(agent, url, gsd)).httpStatus, (await post(agent, url, gsd)).httpStatus], [500, 500, 200]);
  t.equal((await control(agent, faults, 'GET')).json.platform5xx, 0, 'count used up');
  t.equal(sim.instance('2').stats().requests['(any)']?.http500, 4);

  const s = await cast(t, agent, url);
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo())).code, 0);
  const expired = await control(agent, `${sim.controlUrl}/_sim/instances/2/expire-tokens`, 'POST');
  t.same(expired.json, { expired: 1 });
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo())).code, 65);

  const bad = await control(agent, faults, 'PUT', { slow: 5 });
  t.equal(bad.status, 400, 'unknown fault names are refused');
  t.equal((await control(agent, `${sim.controlUrl}/_sim/instances/7/faults`, 'PUT', { down: true })).status, 404);
});

t.test('dropNotifications: changes produce nothing', async (t) => {
  const receiver = await startReceiver(t);
  const sim = await startSim(t, { deliveryRewrites: [{ from: 'https://gw.test/', to: receiver.base }] });
  const agent = client(t);
  const us = sim.instance('1');
  const s = await cast(t, agent, us.info.platformUrl);
  await call(t, agent, s, 'SubscribeToEvent', 1, buildSubscribeToEventInfo({ key: KEY_A, keyVersionId: 'v1', url: NOTIFY_URL, typeIds: [[WEIGHT]] }));
  await control(agent, `${sim.controlUrl}/_sim/instances/1/faults`, 'PUT', { dropNotifications: true });
  const person = await control(agent, `${sim.controlUrl}/_sim/instances/1/people`, 'POST', {});
  t.equal(person.status, 201);
  const thing = await control(agent, `${sim.controlUrl}/_sim/instances/1/records/${String(person.json.recordId)}/things`, 'POST', { typeId: WEIGHT, count: 3 });
  t.equal(thing.status, 201);
  t.equal((thing.json.thingIds as string[]).length, 3);
  await new Promise((r) => setTimeout(r, 150));
  t.equal(receiver.posts.length, 0);
  t.same([us.stats().delivery.changes, us.stats().delivery.dropped], [3, 3]);

  await control(agent, `${sim.controlUrl}/_sim/instances/1/faults`, 'PUT', { dropNotifications: false });
  const updated = await request(`${sim.controlUrl}/_sim/instances/1/things/${String(thing.json.thingId)}`, {
    dispatcher: agent, method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' },
  });
  t.equal(updated.statusCode, 200);
  t.equal((await updated.body.json() as { version: number }).version, 2);
  await eventually(() => us.deliveries({ state: 'delivered' }).length === 1, 3000, 'notifications flow again');
  t.equal(receiver.posts.length, 1);
  const log = await control(agent, `${sim.controlUrl}/_sim/instances/1/deliveries?state=delivered`, 'GET');
  t.same(log.json.counts, { pending: 0, delivered: 1, failed: 0, open: 0 });
  us.addThing(String(person.json.recordId), WEIGHT);
  await eventually(() => us.deliveries({ state: 'delivered' }).length === 2, 3000, 'second delivery');
  const latest = await control(agent, `${sim.controlUrl}/_sim/instances/1/deliveries?limit=1`, 'GET');
  t.equal((latest.json.deliveries as unknown[]).length, 1, 'limit keeps the most recent');
  t.equal((await control(agent, `${sim.controlUrl}/_sim/instances/1/deliveries?limit=x`, 'GET')).status, 400);
  t.throws(() => us.setFaults({ slowMs: -1 }), { code: 'HVG_ERR_VALIDATION' }, 'programmatic faults are checked too');
  const missing = await control(agent, `${sim.controlUrl}/_sim/instances/1/records/00000000-0000-4000-8000-000000000000/things`, 'POST', { typeId: WEIGHT });
  t.equal(missing.status, 404, 'unknown record');
  const badType = await control(agent, `${sim.controlUrl}/_sim/instances/1/records/${String(person.json.recordId)}/things`, 'POST', { typeId: 'weight' });
  t.equal(badType.status, 400, 'type id must be a GUID');
});
