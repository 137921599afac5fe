// Residency routes as settings: parsed into instance → topic, malformed ones refused naming the
// variable, and no route may send one kind of record into another kind's topic.
import t from 'tap';
import { loadConfig } from '../../src/config/index.ts';
import { allTopics, routedTopic } from '../../src/kafka/routes.ts';
import { requiredEnv } from '../helpers/env.ts';

const REQUIRED = requiredEnv({ PUBLIC_BASE_URL: 'https://gw.example.com/hv', HV_MASTER_SECRET: 'x'.repeat(32), ADMIN_TOKENS: 'admin-token-0123456789' });

t.test('defaults: no routes, the things topic, enrichment limits', async (t) => {
  const c = loadConfig({ ...REQUIRED });
  t.equal(c.kafkaTopicRoutes.size, 0);
  t.equal(c.kafkaThingsTopic, 'healthvault.things');
  t.equal(routedTopic(c.kafkaTopicRoutes, '2', c.kafkaTopic), 'healthvault.events');
  t.equal(c.enrichHoldMs, 5000);
});

t.test('routes are parsed per kind; unrouted instances keep the default topic', async (t) => {
  const c = loadConfig({ ...REQUIRED, KAFKA_TOPIC_ROUTES: ' 2=healthvault.events.eu , 3=healthvault.events.eu', KAFKA_THINGS_TOPIC_ROUTES: '2=healthvault.things.eu', KAFKA_DEAD_LETTER_TOPIC_ROUTES: '2=healthvault.dead-letter.eu' });
  t.same([...c.kafkaTopicRoutes], [['2', 'healthvault.events.eu'], ['3', 'healthvault.events.eu']]);
  t.equal(routedTopic(c.kafkaTopicRoutes, '2', c.kafkaTopic), 'healthvault.events.eu');
  t.equal(routedTopic(c.kafkaTopicRoutes, '1', c.kafkaTopic), 'healthvault.events');
  t.same(allTopics(c.kafkaTopicRoutes, c.kafkaTopic), ['healthvault.events', 'healthvault.events.eu'], 'every events topic once: what the enrichment stage consumes');
  t.equal(routedTopic(c.kafkaThingsTopicRoutes, '2', c.kafkaThingsTopic), 'healthvault.things.eu');
  t.equal(routedTopic(c.kafkaDeadLetterTopicRoutes, '2', c.kafkaDeadLetterTopic), 'healthvault.dead-letter.eu');
});

t.test('malformed routes stop the start with a message naming the variable', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ KAFKA_TOPIC_ROUTES: '2' }, /KAFKA_TOPIC_ROUTES has "2", which is not instanceId=topic/],
    [{ KAFKA_TOPIC_ROUTES: '2=bad topic' }, /KAFKA_TOPIC_ROUTES has "2=bad topic": "bad topic" is not a legal Kafka topic name/],
    [{ KAFKA_THINGS_TOPIC_ROUTES: '=x' }, /KAFKA_THINGS_TOPIC_ROUTES has "=x": "" is not an instance id/],
    [{ KAFKA_DEAD_LETTER_TOPIC_ROUTES: '2=a,2=b' }, /KAFKA_DEAD_LETTER_TOPIC_ROUTES routes instance "2" twice/],
    [{ KAFKA_TOPIC_ROUTES: ',' }, /KAFKA_TOPIC_ROUTES must list at least one instanceId=topic/],
    [{ KAFKA_TOPIC_ROUTES: '2=healthvault.things' }, /KAFKA_TOPIC_ROUTES sends records to "healthvault.things", which is already the topic of KAFKA_THINGS_TOPIC/],
    [{ KAFKA_THINGS_TOPIC_ROUTES: '2=healthvault.events' }, /KAFKA_THINGS_TOPIC_ROUTES sends records to "healthvault.events", which is already the topic of KAFKA_TOPIC/],
    [{ KAFKA_THINGS_TOPIC: 'hv-gateway.subscriptions' }, /KAFKA_THINGS_TOPIC sends records to "hv-gateway.subscriptions", which is already the topic of KAFKA_STATE_TOPIC/],
    [{ KAFKA_TOPIC_ROUTES: '2=eu', KAFKA_DEAD_LETTER_TOPIC_ROUTES: '2=eu' }, /KAFKA_DEAD_LETTER_TOPIC_ROUTES sends records to "eu", which is already the topic of KAFKA_TOPIC_ROUTES/],
  ];
  for (const [env, message] of cases) t.throws(() => loadConfig({ ...REQUIRED, ...env }), { code: 'HVG_ERR_CONFIG', message }, JSON.stringify(env));
});
