// Residency routing end to end: with KAFKA_TOPIC_ROUTES / KAFKA_DEAD_LETTER_TOPIC_ROUTES the EU
// instance's events and dead letters land only in the EU topics (created at start like the
// defaults, written as the least-privilege principal with the listed ACLs), the US ones only in
// the defaults. Simulator (US "1", EU "2") → gateway → the real broker.
import t from 'tap';
import { readRecords, topicEndOffset, uniqueTopic } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, startGateway, startSim } from '../helpers/stack.ts';

t.test('an instance routed to its own topics: its events and dead letters go there and nowhere else', async (t) => {
  const sim = await startSim(t);
  const euEvents = uniqueTopic('events-eu');
  const euDead = uniqueTopic('dead-eu');
  const gw = await startGateway(t, sim, { KAFKA_TOPIC_ROUTES: `2=${euEvents}`, KAFKA_DEAD_LETTER_TOPIC_ROUTES: `2=${euDead}` });
  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] })).status, 201);
  await eventually('in sync', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  const records = new Map<string, string>(); // record id → instance
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    for (let p = 0; p < 3; p++) {
      const person = inst.createPerson();
      inst.addThing(person.recordId, GLUCOSE);
      records.set(person.recordId, id);
    }
  }
  await eventually('delivered', () => ['1', '2'].flatMap((id) => sim.instance(id).deliveries()), (l) => l.length > 0 && l.every((b) => b.state === 'delivered'));
  const us = await readRecords(gw.topic, 3);
  const eu = await readRecords(euEvents, 3);
  t.same(us.map((r) => r.headers.hv_instance_id).sort(), ['1', '1', '1'], 'the default topic holds only US events');
  t.same(eu.map((r) => r.headers.hv_instance_id).sort(), ['2', '2', '2'], 'the EU topic holds only EU events');
  t.same(new Set(eu.map((r) => JSON.parse(r.value).recordId)), new Set([...records].filter(([, i]) => i === '2').map(([r]) => r)));
  t.same([await topicEndOffset(gw.topic), await topicEndOffset(euEvents)], [3, 3], 'nothing else in either');

  // an EU body the gateway cannot read: dead-lettered into the EU dead-letter topic only
  sim.instance('2').setQuirks({ notificationEncodingDeclaration: 'utf-16' });
  sim.instance('2').addThing(sim.instance('2').createPerson().recordId, GLUCOSE);
  await eventually('EU quirk delivered', () => sim.instance('2').deliveries(), (l) => l.length > 0 && l.every((b) => b.state === 'delivered'));
  const [dead] = await readRecords(euDead, 1);
  t.equal(dead?.headers.hv_instance_id, '2');
  t.equal(await topicEndOffset(gw.deadLetterTopic), 0, 'nothing in the default dead-letter topic');
});
