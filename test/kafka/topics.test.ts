// ensureTopics against the real broker: several topics in one call, configs applied, idempotent,
// and KAFKA_CREATE_TOPICS=false turning a missing topic into an error that names it.
import t from 'tap';
import kafkajs from 'kafkajs';
import { HvgError } from '../../src/errors.ts';
import { ensureTopics } from '../../src/kafka/index.ts';
import { kafkaClient, silentLogger, uniqueTopic } from '../helpers/kafka.ts';

t.test('creates what is missing with partitions and configs, then finds it on the next call', async (t) => {
  const events = uniqueTopic('ens-events');
  const state = uniqueTopic('ens-state');
  const specs = [
    { topic: events, variable: 'KAFKA_TOPIC', partitions: 3, replicationFactor: 1 },
    { topic: state, variable: 'KAFKA_STATE_TOPIC', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    { topic: `${state}.leader`, variable: 'KAFKA_STATE_TOPIC', partitions: 1, replicationFactor: -1 },
  ];
  const kafka = kafkaClient();
  const first = await ensureTopics(kafka, specs, { create: true, deadline: Date.now() + 30_000, logger: silentLogger });
  t.same([...first.values()].map((s) => [s.partitions, s.created]), [[3, true], [1, true], [1, true]]);
  const again = await ensureTopics(kafka, specs, { create: true, deadline: Date.now() + 30_000, logger: silentLogger });
  t.same([...again.values()].map((s) => [s.partitions, s.created]), [[3, false], [1, false], [1, false]], 'nothing created twice');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: state, configNames: ['cleanup.policy'] }] });
  t.equal(described.resources[0]?.configEntries[0]?.configValue, 'compact');
});

t.test('KAFKA_CREATE_TOPICS=false: a missing topic is an error naming it and its setting; nothing is created', async (t) => {
  const missing = uniqueTopic('ens-missing');
  const kafka = kafkaClient();
  const err = await ensureTopics(kafka, [{ topic: missing, variable: 'KAFKA_TOPIC', partitions: 1, replicationFactor: 1 }], { create: false, deadline: Date.now() + 30_000, logger: silentLogger }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof HvgError);
  t.equal((err as HvgError).code, 'HVG_ERR_KAFKA_FATAL');
  t.match((err as HvgError).message, new RegExp(`topic ${missing.replace(/\./g, '\\.')} \\(KAFKA_TOPIC\\) does not exist.*KAFKA_CREATE_TOPICS=false`));
  const admin = kafka.admin();
  await admin.connect();
  t.notOk((await admin.listTopics()).includes(missing));
  await admin.disconnect();
});
