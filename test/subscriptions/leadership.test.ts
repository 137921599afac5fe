import t from 'tap';
import { Leadership } from '../../src/subscriptions/leadership.ts';
import { brokers, silentLogger, testKafkaClient, uniqueTopic } from '../helpers/kafka.ts';

const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
};

t.test('exactly one member leads; when it leaves another takes over', async (t) => {
  const topic = uniqueTopic('leader');
  const make = () => new Leadership({ brokers, clientId: 'hvg-test', topic, groupId: `${topic}-group`, replicationFactor: 1, sessionTimeoutMs: 6000, kafkaLogLevel: 'error', logger: silentLogger, client: testKafkaClient });
  const a = make();
  const b = make();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.start(), b.start()]);
  t.ok(await waitFor(() => Number(a.isLeader()) + Number(b.isLeader()) === 1, 30_000), 'one leader');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(Number(a.isLeader()) + Number(b.isLeader()), 1, 'still exactly one after settling');
  const [leader, other] = a.isLeader() ? [a, b] : [b, a];
  const changes: boolean[] = [];
  other.on('change', (v: boolean) => changes.push(v));
  await leader.close();
  t.ok(await waitFor(() => other.isLeader(), 30_000), 'the other member took over');
  t.equal(leader.isLeader(), false);
  t.same(changes, [true]);
});
