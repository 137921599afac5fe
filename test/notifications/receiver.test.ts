// The receiver route over real HTTP against the real broker (store and sink), with bodies built
// and signed by the codec. End-to-end with the simulator lives in test/e2e/.
import t from 'tap';
import { buildNotificationBody } from '../../src/healthvault/index.ts';
import { readRecords, topicEndOffset } from '../helpers/kafka.ts';
import { harness, notification, post, sign, spec, SUB_EU, SUB_US } from './helpers.ts';

t.test('verified notifications land in Kafka tagged with the instance of the path; count in = count out', async (t) => {
  const h = await harness(t);
  const us = [notification(SUB_US, 2), notification(SUB_US)];
  const eu = [notification(SUB_EU)];
  const usBody = buildNotificationBody(us);
  const euBody = buildNotificationBody(eu);
  const r1 = await post(h.url, '/notifications/1/glucose', usBody, sign('1', SUB_US, usBody));
  const r2 = await post(h.url, '/notifications/2/glucose', euBody, sign('2', SUB_EU, euBody));
  t.same([r1.status, r1.json], [200, { produced: 2, deadLettered: 0 }]);
  t.same([r2.status, r2.json], [200, { produced: 1, deadLettered: 0 }]);
  t.equal(await topicEndOffset(h.topic), 3, '3 notifications in, 3 records out');
  const got = await readRecords(h.topic, 3);
  const byRecord = new Map(got.map((r) => [JSON.parse(r.value).recordId as string, r]));
  for (const [instanceId, list] of [['1', us], ['2', eu]] as const) {
    for (const n of list) {
      const r = byRecord.get(n.recordId);
      t.ok(r, `record ${n.recordId} arrived`);
      t.equal(r?.key, `${instanceId}:${n.recordId}`);
      t.equal(r?.headers.hv_instance_id, instanceId);
      t.equal(r?.headers.ce_source, `/healthvault/instances/${instanceId}`);
      t.same(JSON.parse(r?.value ?? '{}').thingIds, n.thingIds);
      t.equal(JSON.parse(r?.value ?? '{}').subscription.id, n.subscriptionId);
    }
  }
});

t.test('forged or damaged requests are refused with 401 and nothing is produced', async (t) => {
  const h = await harness(t);
  const body = buildNotificationBody([notification(SUB_US)]);
  const usAuth = sign('1', SUB_US, body);
  const cases: [string, string, string | Buffer, string | undefined, number, string][] = [
    ['US-signed body on the EU path', '/notifications/2/glucose', body, usAuth.replace(SUB_US, SUB_EU), 401, 'HVG_ERR_AUTH_BAD_SIGNATURE'],
    ['US-signed body on the EU path, US header', '/notifications/2/glucose', body, usAuth, 401, 'HVG_ERR_AUTH_BAD_SIGNATURE'],
    ['one flipped byte', '/notifications/1/glucose', Buffer.from(body.replace('<things>', '<thingz>').replace('</things>', '</thingz>')), usAuth, 401, 'HVG_ERR_AUTH_BAD_SIGNATURE'],
    ['missing header', '/notifications/1/glucose', body, undefined, 401, 'HVG_ERR_AUTH_MISSING'],
    ['other scheme', '/notifications/1/glucose', body, usAuth.replace('HVEventingSharedKey', 'Bearer'), 401, 'HVG_ERR_AUTH_MALFORMED'],
    ['truncated mac', '/notifications/1/glucose', body, usAuth.slice(0, -4), 401, 'HVG_ERR_AUTH_MALFORMED'],
    ['unknown key version', '/notifications/1/glucose', body, sign('1', SUB_US, body, 2), 401, 'HVG_ERR_AUTH_UNKNOWN_KEY_VERSION'],
    ['unknown subscription name', '/notifications/1/weight', body, usAuth, 404, 'HVG_ERR_UNKNOWN_SUBSCRIPTION'],
  ];
  for (const [what, path, b, auth, status, code] of cases) {
    const r = await post(h.url, path, b, auth);
    t.same([r.status, r.json?.code], [status, code], what);
    t.type(r.json?.message, 'string');
  }
  // flip each of a few bytes in turn: all refused
  for (const i of [0, 10, 100, body.length - 1]) {
    const b = Buffer.from(body);
    b[i] = b[i]! ^ 1;
    t.equal((await post(h.url, '/notifications/1/glucose', b, usAuth)).status, 401, `byte ${i} flipped`);
  }
  t.equal(await topicEndOffset(h.topic), 0, 'nothing was produced');
});

t.test("a header naming a subscription that is not this URL's is refused (403): authentication, not content", async (t) => {
  const h = await harness(t);
  const foreign = '11111111-2222-4333-8444-555555555555';
  const b1 = buildNotificationBody([notification(foreign)]);
  const r1 = await post(h.url, '/notifications/1/glucose', b1, sign('1', foreign, b1));
  t.same([r1.status, r1.json.code], [403, 'HVG_ERR_SUBSCRIPTION_MISMATCH'], 'header names another subscription');
  // the EU subscription id is ours, but not in instance 1
  const r2 = await post(h.url, '/notifications/1/glucose', b1, sign('1', SUB_EU, b1));
  t.same([r2.status, r2.json.code], [403, 'HVG_ERR_SUBSCRIPTION_MISMATCH'], 'header names the EU subscription on the US path');
  t.equal(await topicEndOffset(h.topic), 0);
  t.equal(await topicEndOffset(h.deadLetterTopic), 0, 'nothing dead-lettered for an authentication refusal');
});

t.test('an entry whose subscription id is none of ours in this instance goes to the dead-letter topic; the rest are events; 200', async (t) => {
  const h = await harness(t);
  const ours = notification(SUB_US);
  // SUB_EU is ours in instance 2, not in instance 1
  const body = buildNotificationBody([ours, notification(SUB_EU)]);
  const r = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body));
  t.same([r.status, r.json], [200, { produced: 1, deadLettered: 1 }]);
  const [event] = await readRecords(h.topic, 1);
  t.equal(JSON.parse(event?.value ?? '{}').recordId, ours.recordId, 'our entry is an event');
  const [dead] = await readRecords(h.deadLetterTopic, 1);
  t.equal(dead?.value, body, 'the raw body');
  t.equal(dead?.key, `1:${SUB_US}`);
  t.same(
    [dead?.headers.hv_instance_id, dead?.headers.hv_subscription_name, dead?.headers.hv_subscription_id, dead?.headers.hv_dead_letter_reason, dead?.headers.hv_dead_letter_entries],
    ['1', 'glucose', SUB_US, 'foreign-subscription', '2'],
  );
  t.match(await h.metrics.registry.getSingleMetricAsString('hv_gateway_notifications_dead_lettered_total'), /instance="1",reason="foreign-subscription"} 1/);
});

t.test('an entry for another of our subscriptions in the same instance is an event tagged with its own subscription', async (t) => {
  const h = await harness(t);
  const SUB_US_WEIGHT = '7a0c3e55-1b2d-4c8e-9f60-2d4b8a9e1c07';
  await h.store.writeSpec(spec({ name: 'weight' }));
  await h.store.writeObservation({ instanceId: '1', name: 'weight', hvSubscriptionId: SUB_US_WEIGHT, knownIds: [SUB_US_WEIGHT], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null });
  const glucose = notification(SUB_US);
  const weight = notification(SUB_US_WEIGHT);
  const body = buildNotificationBody([glucose, weight]);
  const r = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body));
  t.same([r.status, r.json], [200, { produced: 2, deadLettered: 0 }]);
  const got = new Map((await readRecords(h.topic, 2)).map((x) => [JSON.parse(x.value).recordId as string, x]));
  t.same([got.get(glucose.recordId)?.headers.hv_subscription_name, got.get(glucose.recordId)?.headers.hv_subscription_id], ['glucose', SUB_US]);
  t.same([got.get(weight.recordId)?.headers.hv_subscription_name, got.get(weight.recordId)?.headers.hv_subscription_id], ['weight', SUB_US_WEIGHT]);
  t.same(JSON.parse(got.get(weight.recordId)?.value ?? '{}').subscription, { name: 'weight', id: SUB_US_WEIGHT, keyVersion: 'v1' });
  t.equal(await topicEndOffset(h.deadLetterTopic), 0);
});

t.test('signed but unreadable bodies are dead-lettered raw with 200; only the size limit (before the HMAC) is a 4xx', async (t) => {
  const h = await harness(t, { bodyLimit: 4096 });
  const good = buildNotificationBody([notification(SUB_US)]);
  const bodies: [string, string][] = [
    ['DOCTYPE', `<!DOCTYPE x [<!ENTITY a "aaaa">]>${good}`],
    ['truncated', good.slice(0, good.length - 10)],
    ['wrong namespace', good.replace('urn:com.microsoft.wc.notification', 'urn:example')],
    ['not XML', '{"json": true}'],
    ['empty', ''],
  ];
  for (const [what, body] of bodies) {
    const r = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body));
    t.same([r.status, r.json], [200, { produced: 0, deadLettered: 1 }], what);
  }
  const oversize = `${good}${' '.repeat(5000)}`;
  const big = await post(h.url, '/notifications/1/glucose', oversize, sign('1', SUB_US, oversize));
  t.same([big.status, big.json?.code], [413, 'HVG_ERR_BODY_TOO_LARGE'], 'oversize');
  t.equal(await topicEndOffset(h.topic), 0, 'no events');
  const dead = await readRecords(h.deadLetterTopic, bodies.length);
  t.same(dead.map((d) => d.value).sort(), bodies.map(([, b]) => b).sort(), 'every raw body, byte for byte');
  for (const d of dead) {
    t.same([d.headers.hv_dead_letter_reason, d.headers.hv_instance_id, d.headers.hv_subscription_name, d.headers['content-type'], d.headers.ce_type], ['unreadable', '1', 'glucose', 'application/octet-stream', 'com.microsoft.healthvault.notification-dead-lettered.v1']);
    t.match(d.headers.hv_dead_letter_detail, /\S/, 'the reader says why');
    t.ok(!Number.isNaN(Date.parse(d.headers.ce_time ?? '')), 'receive time');
  }
  t.match(await h.metrics.registry.getSingleMetricAsString('hv_gateway_notifications_dead_lettered_total'), /instance="1",reason="unreadable"} 5/);
});

t.test('unknown notification kinds go to the dead-letter topic (counted); known entries are events', async (t) => {
  const h = await harness(t);
  const n = notification(SUB_US);
  const body = buildNotificationBody([n]).replace('</wc:notifications>', `<notification><common><subscription-id>${SUB_US}</subscription-id></common><future-kind/></notification></wc:notifications>`);
  const r = await post(h.url, '/notifications/1/glucose', body, sign('1', SUB_US, body));
  t.same([r.status, r.json], [200, { produced: 1, deadLettered: 1 }]);
  const [dead] = await readRecords(h.deadLetterTopic, 1);
  t.same([dead?.value, dead?.headers.hv_dead_letter_reason, dead?.headers.hv_dead_letter_entries], [body, 'unknown-kind', '2']);
  t.equal(await topicEndOffset(h.topic), 1);
  t.match(await h.metrics.registry.getSingleMetricAsString('hv_gateway_notifications_dead_lettered_total'), /instance="1",reason="unknown-kind"} 1/);
});

t.test('key rotation: both versions verify until the instance confirmed the new one and the retry horizon passed', async (t) => {
  const h = await harness(t);
  await h.store.writeSpec(spec({ keyVersion: 2, previousKeyVersion: 1, keyRotatedAt: new Date().toISOString(), revision: 2 }));
  const b = buildNotificationBody([notification(SUB_US)]);
  t.equal((await post(h.url, '/notifications/1/glucose', b, sign('1', SUB_US, b, 1))).status, 200, 'old key within the overlap');
  t.equal((await post(h.url, '/notifications/1/glucose', b, sign('1', SUB_US, b, 2))).status, 200, 'new key');
  // US confirmed v2 longer ago than the retry horizon (60 s here)
  await h.store.writeObservation({ instanceId: '1', name: 'glucose', hvSubscriptionId: SUB_US, knownIds: [SUB_US], state: 'in-sync', keyVersion: 2, keyConfirmations: [{ version: 2, at: new Date(Date.now() - 120_000).toISOString() }], specRevision: 2, lastError: null, lastSync: null });
  const old = await post(h.url, '/notifications/1/glucose', b, sign('1', SUB_US, b, 1));
  t.same([old.status, old.json.code], [401, 'HVG_ERR_AUTH_UNKNOWN_KEY_VERSION'], 'old key after the horizon');
  t.equal((await post(h.url, '/notifications/1/glucose', b, sign('1', SUB_US, b, 2))).status, 200);
});

t.test('Kafka unavailable → 503 with Retry-After, fast; per-instance rate limit → 429', async (t) => {
  const h = await harness(t, { rateLimit: 3 });
  const b = buildNotificationBody([notification(SUB_US)]);
  const auth = sign('1', SUB_US, b);
  await h.sink.close();
  const r = await post(h.url, '/notifications/1/glucose', b, auth);
  t.same([r.status, r.json.code, r.headers['retry-after']], [503, 'HVG_ERR_SINK_CLOSED', '7']);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await post(h.url, '/notifications/1/glucose', b, auth)).status);
  t.same(statuses.slice(0, 2), [503, 503]);
  const limited = await post(h.url, '/notifications/1/glucose', b, auth);
  t.same([limited.status, limited.json.code], [429, 'HVG_ERR_RATE_LIMITED']);
  const unreadable = '<not-a-notification/>';
  const dl = await post(h.url, '/notifications/2/glucose', unreadable, sign('2', SUB_EU, unreadable));
  t.same([dl.status, dl.json.code], [503, 'HVG_ERR_SINK_CLOSED'], 'a body for the dead-letter topic too: 503, the platform keeps it');
  const euBody = buildNotificationBody([notification(SUB_EU)]);
  t.not((await post(h.url, '/notifications/2/glucose', euBody, sign('2', SUB_EU, euBody))).status, 429, 'another instance is not limited');
});
