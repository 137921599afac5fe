// Residency-aware routing: an instance's platform content (its events, dead letters and enriched
// things) may go to topics of its own, e.g. KAFKA_TOPIC_ROUTES=2=healthvault.events.eu keeps the
// EU instance's events out of the default topic. A route is `instanceId=topic`, routes are
// comma-separated; an instance without a route uses the default topic of that kind.
import { ConfigValueError, type SettingProblem } from '../config/kit.ts';

/** instance id → topic; empty = everything in the default topic */
export type TopicRoutes = ReadonlyMap<string, string>;

export const NO_ROUTES: TopicRoutes = new Map();

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** Parser for a *_ROUTES setting: `1=topic.us,2=topic.eu`. */
export const topicRoutes = (raw: string): TopicRoutes => {
  const out = new Map<string, string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const id = eq < 0 ? '' : part.slice(0, eq).trim();
    const topic = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (eq < 0) throw new ConfigValueError(`has "${part.slice(0, 80)}", which is not instanceId=topic (e.g. 2=healthvault.events.eu)`);
    if (!INSTANCE_ID.test(id)) throw new ConfigValueError(`has "${part.slice(0, 80)}": "${id.slice(0, 80)}" is not an instance id (letters, digits, ".", "_", "-")`);
    if (!TOPIC.test(topic)) throw new ConfigValueError(`has "${part.slice(0, 80)}": "${topic.slice(0, 80)}" is not a legal Kafka topic name`);
    if (out.has(id)) throw new ConfigValueError(`routes instance "${id}" twice; give each instance one topic`);
    out.set(id, topic);
  }
  if (out.size === 0) throw new ConfigValueError('must list at least one instanceId=topic (or be unset)');
  return out;
};

/** The topic of an instance's records: its route, or the default. */
export const routedTopic = (routes: TopicRoutes, instanceId: string, fallback: string): string => routes.get(instanceId) ?? fallback;

/** Every topic a kind of record may go to: the default first, then the routed ones (unique). */
export const allTopics = (routes: TopicRoutes, fallback: string): string[] => [...new Set([fallback, ...routes.values()])];

export interface RoutedTopicsConfig {
  readonly kafkaTopic: string;
  readonly kafkaDeadLetterTopic: string;
  readonly kafkaThingsTopic: string;
  readonly stateTopic: string;
  readonly kafkaTopicRoutes: TopicRoutes;
  readonly kafkaDeadLetterTopicRoutes: TopicRoutes;
  readonly kafkaThingsTopicRoutes: TopicRoutes;
}

/**
 * Each kind of record keeps topics of its own: events, dead letters (raw bodies), things and the
 * state log never share a topic, or a consumer of one would read another's contract.
 */
export function checkTopicRoutes(c: RoutedTopicsConfig): SettingProblem[] {
  const kinds = [
    { variable: 'KAFKA_TOPIC_ROUTES', base: 'KAFKA_TOPIC', topics: allTopics(c.kafkaTopicRoutes, c.kafkaTopic) },
    { variable: 'KAFKA_DEAD_LETTER_TOPIC_ROUTES', base: 'KAFKA_DEAD_LETTER_TOPIC', topics: allTopics(c.kafkaDeadLetterTopicRoutes, c.kafkaDeadLetterTopic) },
    { variable: 'KAFKA_THINGS_TOPIC_ROUTES', base: 'KAFKA_THINGS_TOPIC', topics: allTopics(c.kafkaThingsTopicRoutes, c.kafkaThingsTopic) },
  ];
  const owner = new Map<string, string>([[c.stateTopic, 'KAFKA_STATE_TOPIC'], [`${c.stateTopic}.leader`, 'KAFKA_STATE_TOPIC (.leader)']]);
  const out: SettingProblem[] = [];
  // the defaults first, then the routes: a clash is blamed on the route (the variable to fix)
  const entries = [...kinds.map((k) => ({ k, variable: k.base, topics: k.topics.slice(0, 1) })), ...kinds.map((k) => ({ k, variable: k.variable, topics: k.topics.slice(1) }))];
  for (const { k, variable, topics } of entries) {
    for (const topic of topics) {
      const taken = owner.get(topic);
      if (taken !== undefined && taken !== k.base && taken !== k.variable) {
        out.push({ variable, message: `${variable} sends records to "${topic}", which is already the topic of ${taken}: every kind of record needs topics of its own` });
      } else if (taken === undefined) owner.set(topic, variable);
    }
  }
  return out;
}
