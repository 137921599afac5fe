// Issue 11 point 2 end to end: junk sent to one instance's notification paths while that
// instance keeps delivering — every genuine delivery gets 200 at its first attempt.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { buildNotificationBody, notificationAuthorizationFor } from '../../src/healthvault/index.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import { MASTER_SECRET } from '../helpers/env.ts';
import { topicEndOffset } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim } from '../helpers/stack.ts';

t.test('a junk flood on /notifications/1/… does not cost genuine US deliveries their rate budget', async (t) => {
  const sim = await startSim(t);
  // 20 verified requests per instance per minute: far more junk than that arrives in the same window
  const gw = await startGateway(t, sim, { NOTIFICATION_RATE_LIMIT: '20', NOTIFICATION_AUTH_FAILURE_LIMIT: '50', NOTIFICATION_RATE_WINDOW_MS: '60000' });
  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] })).status, 201);
  await eventually('in sync', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  const hvId = ours(sim, '1')[0]!.id;
  const euKey = new KeyDeriver(MASTER_SECRET).key('2', 'glucose', 1); // a real key, but not this path's

  const pool = new Pool(gw.url, { connections: 8 });
  t.teardown(() => pool.close());
  let sent = 0;
  const junk = new Map<number, number>();
  let flooding = true;
  const lane = async () => {
    while (flooding) {
      const i = sent++;
      const body = buildNotificationBody([{ subscriptionId: hvId, personId: randomUUID(), recordId: randomUUID(), thingIds: [randomUUID()] }]);
      const path = i % 2 === 0 ? `/notifications/1/junk-${i}` : '/notifications/1/glucose';
      const res = await pool.request({ path, method: 'POST', body, headers: { authorization: notificationAuthorizationFor(hvId, 'v1', euKey, body) } });
      await res.body.dump();
      junk.set(res.statusCode, (junk.get(res.statusCode) ?? 0) + 1);
    }
  };
  const lanes = Array.from({ length: 4 }, lane);
  await eventually('junk under way', () => sent, (n) => n >= 200);

  const us = sim.instance('1');
  for (let k = 0; k < 10; k++) {
    us.addThing(us.createPerson().recordId, GLUCOSE);
    await new Promise((r) => setTimeout(r, 30));
  }
  const batches = await eventually('every US change delivered', () => us.deliveries(), (l) => l.length > 0 && l.every((b) => b.state === 'delivered'), 20_000);
  flooding = false;
  await Promise.all(lanes);
  const attempts = batches.flatMap((b) => b.history.map((h) => h.status));
  t.same([...new Set(attempts)], [200], `all ${attempts.length} genuine delivery attempts answered 200 (${batches.length} batches)`);
  t.ok(sent >= 200, `${sent} junk requests: ${JSON.stringify(Object.fromEntries(junk))}`);
  t.same([...junk.keys()].sort(), [401, 404, 429], 'junk got 404 (unknown name), 401, then 429 once its own budget was spent');
  t.equal(await topicEndOffset(gw.topic), batches.reduce((n, b) => n + b.notificationCount, 0), 'exactly the genuine notifications in the topic');
});
