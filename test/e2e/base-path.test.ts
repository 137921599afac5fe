// Callbacks are served where they are registered (issue 11 point 9): HealthVault POSTs to
// {PUBLIC_BASE_URL}/notifications/…, here https://gw.test/hv/…; the simulator now rewrites only the
// origin, so the gateway receives /hv/notifications/… as a plain TLS proxy would pass it on.
import t from 'tap';
import { readRecords, topicEndOffset } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, PUBLIC_BASE, startGateway, startSim } from '../helpers/stack.ts';

t.test('deliveries to {PUBLIC_BASE_URL}/notifications/… reach Kafka without a proxy that strips the prefix', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  const origin = new URL(PUBLIC_BASE).origin; // https://gw.test
  sim.setDeliveryRewrites([{ from: `${origin}/`, to: `${gw.url}/` }]);
  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] })).status, 201);
  await eventually('in sync', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    inst.addThing(inst.createPerson().recordId, GLUCOSE);
  }
  const batches = await eventually('delivered', () => ['1', '2'].flatMap((id) => sim.instance(id).deliveries()), (l) => l.length === 2 && l.every((b) => b.state === 'delivered'));
  for (const b of batches) {
    t.match(b.url, /^https:\/\/gw\.test\/hv\/notifications\/[12]\/glucose$/, 'registered under the base path');
    t.match(b.target, /^http:\/\/127\.0\.0\.1:\d+\/hv\/notifications\//, 'and the gateway served that path');
  }
  t.equal(await topicEndOffset(gw.topic), 2);
  const records = await readRecords(gw.topic, 2);
  t.same(records.map((r) => r.headers.hv_instance_id).sort(), ['1', '2'], 'each tagged with its instance');
});
