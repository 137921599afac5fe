// Settings of the enrichment stage and of residency routing (composed in config/index.ts).
// The stage runs only while some subscription says `enrich: true`; until then none of these
// opens anything. Its per-instance concurrency is HV_THINGS_CONCURRENCY (config/instances.ts):
// one knob for GetThings calls in flight per instance, whoever makes them.
import { int, setting, text } from './kit.ts';
import { NO_ROUTES, topicRoutes, type TopicRoutes } from '../kafka/routes.ts';

const topicName = text(/^[A-Za-z0-9._-]{1,249}$/, 'a legal Kafka topic name');
const routes = (variable: string, what: string) =>
  setting<TopicRoutes>(variable, `Per-instance topics for ${what}: instanceId=topic, comma-separated (e.g. 2=${what === 'events' ? 'healthvault.events.eu' : what === 'dead letters' ? 'healthvault.dead-letter.eu' : 'healthvault.things.eu'}); unrouted instances use the default topic. Keeps an instance's data in topics of its own (residency).`, NO_ROUTES, topicRoutes, { defaultText: '(none)' });

export const ROUTING_SETTINGS = {
  kafkaTopicRoutes: routes('KAFKA_TOPIC_ROUTES', 'events'),
  kafkaDeadLetterTopicRoutes: routes('KAFKA_DEAD_LETTER_TOPIC_ROUTES', 'dead letters'),
  kafkaThingsTopicRoutes: routes('KAFKA_THINGS_TOPIC_ROUTES', 'enriched things'),
} as const;

export const ENRICHMENT_SETTINGS = {
  kafkaThingsTopic: setting('KAFKA_THINGS_TOPIC', 'Topic of the enrichment stage: one record per changed thing (GetThings in the event\'s own instance), key {instanceId}:{recordId}:{thingId}. Created like KAFKA_TOPIC when the stage starts.', 'healthvault.things', topicName),
  enrichRateLimit: setting('ENRICH_RATE_LIMIT', 'GetThings calls started per instance per second in the enrichment stage (per replica); 0 = no limit.', 0, int(0, 100_000)),
  enrichRetryBaseMs: setting('ENRICH_RETRY_BASE_MS', 'First backoff of an instance after a retriable GetThings failure; doubles per failure, full jitter, capped by ENRICH_RETRY_MAX_MS.', 200, int(10, 60_000)),
  enrichRetryMaxMs: setting('ENRICH_RETRY_MAX_MS', 'Largest backoff of an instance after retriable GetThings failures.', 10_000, int(10, 600_000)),
  enrichHoldMs: setting('ENRICH_HOLD_MS', 'How long events of a failing instance may hold back a partition; then the partition moves on with the other instances\' events and the held ones are fetched again from Kafka (never skipped).', 5_000, int(100, 600_000)),
  enrichPartitionsConcurrency: setting('ENRICH_PARTITIONS_CONCURRENCY', 'Events-topic partitions the enrichment consumer works on at once (per replica).', 6, int(1, 1000)),
} as const;
