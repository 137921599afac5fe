// Issue 13 point 3 and the rotation drill: key acceptance follows the instances. An instance is
// down for longer than the old overlap (KEY_ROTATION_OVERLAP_MS, now ignored), the key is rotated
// meanwhile, and the notifications it queued before the rotation — signed with the key that was
// current when they were queued (quirk signWithQueuedKey) — are delivered after it comes back:
// 0 refused, 0 lost. Also: revokePrevious cuts acceptance short; the status shows which versions
// each instance accepts and until when; version numbers of a name never restart.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { buildNotificationBody, notificationAuthorizationFor } from '../../src/healthvault/index.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import { MASTER_SECRET } from '../helpers/env.ts';
import { readRecords, topicEndOffset } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

type Accepted = { version: number; until: string | null };
type Status = { instanceId: string; keyVersion: number | null; acceptedKeyVersions: Accepted[] };
const statusOf = async (gw: Awaited<ReturnType<typeof startGateway>>, name: string) => (await gw.admin('GET', `/v1/subscriptions/${name}`)).json as { keyVersion: number; status: Status[] };

t.test('rotation drill: EU down longer than the overlap, its queued notifications signed with v1 arrive after it is back: 0 refused, 0 lost', async (t) => {
  const sim = await startSim(t, { quirks: { signWithQueuedKey: true } });
  // KEY_ROTATION_OVERLAP_MS=1000 is what made main refuse v1 one second after the rotation; it is ignored now.
  const gw = await startGateway(t, sim, { KEY_ROTATION_OVERLAP_MS: '1000', HV_REQUEST_TIMEOUT_MS: '1000', HV_MAX_RETRIES: '0', RECONCILE_INTERVAL_MS: '1000' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  await eventually('in sync', () => statusOf(gw, 'glucose'), (s) => s.status.length === 2 && s.status.every((i) => i.keyVersion === 1));

  const eu = sim.instance('2');
  eu.setFaults({ down: true });
  const expected = new Set<string>();
  for (let p = 0; p < 4; p++) {
    const person = eu.createPerson();
    for (let k = 0; k < 3; k++) expected.add(eu.addThing(person.recordId, GLUCOSE).thingId);
  }
  await eventually('EU batches queued', () => eu.deliveries(), (l) => l.length > 0 && l.reduce((n, b) => n + b.notificationCount, 0) === 4);

  const rotated = await gw.admin('POST', '/v1/subscriptions/glucose/rotate-key');
  t.equal(rotated.json.keyVersion, 2);
  await eventually('US holds v2', () => ours(sim, '1')[0]?.keyVersionId, (v) => v === 'v2');
  const during = await eventually('US confirmed v2', () => statusOf(gw, 'glucose'), (s) => s.status.find((i) => i.instanceId === '1')?.keyVersion === 2);
  const us = during.status.find((i) => i.instanceId === '1')!;
  const euStatus = during.status.find((i) => i.instanceId === '2')!;
  t.same(euStatus.acceptedKeyVersions, [{ version: 2, until: null }, { version: 1, until: null }], 'EU (down, still on v1) accepts v1 until it confirms v2');
  t.equal(us.acceptedKeyVersions[1]?.version, 1, 'US still accepts v1 for the retry horizon…');
  t.ok(Date.parse(us.acceptedKeyVersions[1]!.until!) > Date.now() + 10 * 86_400_000, '…of about 11 days after it confirmed v2');

  await new Promise((r) => setTimeout(r, 2500)); // well past the old 1 s overlap
  eu.setFaults({ down: false });
  eu.delivery.retryNow();
  await eventually('every EU batch delivered', () => eu.deliveries(), (l) => l.every((b) => b.state === 'delivered'), 20_000);
  const batches = eu.deliveries();
  const attempts = batches.flatMap((b) => b.history);
  t.ok(attempts.length > 0 && attempts.every((a) => a.keyVersionId === 'v1'), 'every attempt was signed with v1, the key current when queued');
  t.equal(attempts.filter((a) => a.status !== undefined && a.status !== 200).length, 0, '0 refused');
  const count = batches.reduce((n, b) => n + b.notificationCount, 0);
  t.equal(await topicEndOffset(gw.topic), count, 'every delivered notification is in the topic');
  const things = new Set((await readRecords(gw.topic, count)).flatMap((r) => (JSON.parse(r.value) as { thingIds: string[] }).thingIds));
  t.same([...expected].filter((id) => !things.has(id)), [], '0 lost');

  const after = await eventually('EU confirmed v2', () => statusOf(gw, 'glucose'), (s) => s.status.find((i) => i.instanceId === '2')?.keyVersion === 2, 20_000);
  const euAfter = after.status.find((i) => i.instanceId === '2')!;
  t.equal(euAfter.acceptedKeyVersions[1]?.version, 1, 'once EU confirmed v2, v1 stays accepted there for the horizon');
  t.ok(Date.parse(euAfter.acceptedKeyVersions[1]!.until!) > Date.now() + 10 * 86_400_000);
});

t.test('revokePrevious refuses older keys at once; deleting revokes all; a re-created name continues above its highest version', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] });
  await eventually('in sync', () => statusOf(gw, 'weight'), (s) => s.status.length === 2 && s.status.every((i) => i.keyVersion === 1));
  const keys = new KeyDeriver(MASTER_SECRET);
  const post = async (version: number) => {
    const hvId = ours(sim, '1')[0]!.id;
    const body = buildNotificationBody([{ subscriptionId: hvId, personId: randomUUID(), recordId: randomUUID(), thingIds: [randomUUID()] }]);
    const res = await request(`${gw.url}/notifications/1/weight`, { method: 'POST', body, headers: { authorization: notificationAuthorizationFor(hvId, `v${version}`, keys.key('1', 'weight', version), body) } });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal((await gw.admin('POST', '/v1/subscriptions/weight/rotate-key')).json.keyVersion, 2);
  t.equal(await post(1), 200, 'plain rotation: v1 still accepted');
  const revoked = await gw.admin('POST', '/v1/subscriptions/weight/rotate-key?revokePrevious=true');
  t.same([revoked.json.keyVersion, revoked.json.keyVersionFloor], [3, 3]);
  t.same(revoked.json.status.map((s: Status) => s.acceptedKeyVersions), [[{ version: 3, until: null }], [{ version: 3, until: null }]], 'only v3, everywhere');
  t.same([await post(1), await post(2)], [401, 401], 'v1 and v2 refused at once');
  await eventually('v3 registered', () => ours(sim, '1')[0]?.keyVersionId, (v) => v === 'v3');
  t.equal(await post(3), 200);

  const bad = await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT], keyVersion: 999_999_999 });
  t.same([bad.status, bad.json.code], [400, 'HVG_ERR_VALIDATION']);
  t.match(bad.json.message, /keyVersion may be omitted or 4/, 'names the allowed value');
  t.equal((await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT], keyVersion: 3 })).status, 400, 'the current version is not a change either');

  t.equal((await gw.admin('DELETE', '/v1/subscriptions/weight')).status, 204);
  t.equal(await post(3), 404, 'deleted: no version is accepted');
  const again = await gw.admin('PUT', '/v1/subscriptions/weight', { typeIds: [WEIGHT] });
  t.same([again.status, again.json.keyVersion, again.json.keyVersionFloor], [201, 4, 4], 're-created at highest + 1');
  t.same(again.json.status.map((s: Status) => s.acceptedKeyVersions.map((k) => k.version)), [[4], [4]], 'none of the old keys come back');
  await eventually('re-created in US', () => ours(sim, '1'), (l) => l.length === 1);
  t.equal(await post(3), 401, 'the old v3 key is refused');
  t.equal(await post(4), 200, 'the new v4 key works');
  const wrongFirst = await gw.admin('PUT', '/v1/subscriptions/fresh', { typeIds: [WEIGHT], keyVersion: 2 });
  t.match([wrongFirst.status, wrongFirst.json.message], [400, /keyVersion may be omitted or 1/]);
});
