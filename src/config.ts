// One schema for the environment. Each setting is declared once (variable, parser, default,
// doc); loadConfig() validates all of them together and reports every bad value with the
// variable's name, so a deployment is fixed in one round. The README's configuration table
// is checked against CONFIG_SCHEMA by a test. Nothing here opens a resource.
import { readFileSync } from 'node:fs';
import { ConfigValueError, brokerList, int, oneOf, setting, text, type Env, type Setting, type SettingProblem, type SettingValues } from './config-kit.ts';
import { ADMIN_SETTINGS } from './admin-settings.ts';
import { HvgError } from './errors.ts';
import { INSTANCE_SETTINGS, checkInstanceSettings } from './instances/settings.ts';
import { KAFKA_CLIENT_SETTINGS, KAFKA_SECURITY_SETTINGS, checkKafkaSettings } from './kafka/settings.ts';
import { NOTIFICATION_SETTINGS } from './notifications/settings.ts';
import { SUBSCRIPTION_SETTINGS, checkSubscriptionSettings } from './subscriptions/settings.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const CONFIG_SCHEMA = {
  host: setting('HOST', 'Address the HTTP server binds to.', '0.0.0.0', text(/^[0-9A-Za-z.:[\]-]+$/, 'an address or host name')),
  port: setting('PORT', 'HTTP port of the public listener (notifications, /healthz, /readyz); the admin API is on ADMIN_PORT.', 8080, int(0, 65535)),
  logLevel: setting('LOG_LEVEL', 'pino log level.', 'info', oneOf(LOG_LEVELS)),
  bodyLimitBytes: setting('HTTP_BODY_LIMIT_BYTES', 'Largest request body accepted, in bytes.', 1_048_576, int(1024, 64 * 1_048_576)),
  shutdownGraceMs: setting('SHUTDOWN_GRACE_MS', 'Time allowed to drain in-flight work on SIGTERM before the process exits anyway.', 20_000, int(100, 600_000)),

  kafkaBrokers: setting('KAFKA_BROKERS', 'Bootstrap brokers, comma-separated host:port.', ['127.0.0.1:9092'], brokerList, { defaultText: '127.0.0.1:9092' }),
  kafkaClientId: setting('KAFKA_CLIENT_ID', 'Kafka client id of the gateway.', 'hv-gateway', text(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" or "-"')),
  kafkaTopic: setting('KAFKA_TOPIC', 'The topic every notification is written to as an event (the Kafka record contract); what cannot become an event goes to KAFKA_DEAD_LETTER_TOPIC.', 'healthvault.events', text(/^[A-Za-z0-9._-]{1,249}$/, 'a legal Kafka topic name')),
  kafkaDeadLetterTopic: setting('KAFKA_DEAD_LETTER_TOPIC', 'Topic for authentic notification bodies the gateway cannot turn into events (unreadable XML, unknown kinds, foreign subscription ids): raw body + instance, subscription, reason. Created like KAFKA_TOPIC.', 'healthvault.dead-letter', text(/^[A-Za-z0-9._-]{1,249}$/, 'a legal Kafka topic name')),
  kafkaTopicPartitions: setting('KAFKA_TOPIC_PARTITIONS', 'Partitions when the gateway creates the topic.', 6, int(1, 10_000)),
  kafkaTopicReplication: setting('KAFKA_TOPIC_REPLICATION', 'Replication factor when the gateway creates the topic (-1 = broker default).', -1, int(-1, 32)),
  kafkaConnectTimeoutMs: setting('KAFKA_CONNECT_TIMEOUT_MS', 'Give up connecting to Kafka at start after this long.', 15_000, int(500, 600_000)),
  kafkaPublishTimeoutMs: setting('KAFKA_PUBLISH_TIMEOUT_MS', 'A publish not acknowledged within this bound fails (notifications then get 503).', 5_000, int(100, 120_000)),
  kafkaMaxBatchRecords: setting('KAFKA_MAX_BATCH_RECORDS', 'Most records per produce request (micro-batching).', 1_000, int(1, 100_000)),
  kafkaMaxBatchBytes: setting('KAFKA_MAX_BATCH_BYTES', 'Most bytes per produce request (micro-batching).', 900_000, int(1024, 64 * 1_048_576)),
  kafkaMaxQueuedRecords: setting('KAFKA_MAX_QUEUED_RECORDS', 'Records allowed to wait for the next send; beyond it publishes fail fast (backpressure).', 50_000, int(1, 10_000_000)),
  kafkaLogLevel: setting('KAFKA_LOG_LEVEL', 'Level of kafkajs logs bridged into pino.', 'warn', oneOf(['error', 'warn', 'info', 'debug'] as const)),
  ...KAFKA_SECURITY_SETTINGS,
  ...KAFKA_CLIENT_SETTINGS,

  ...INSTANCE_SETTINGS,
  ...SUBSCRIPTION_SETTINGS,
  ...NOTIFICATION_SETTINGS,
  ...ADMIN_SETTINGS,
} as const;

export type Config = SettingValues<typeof CONFIG_SCHEMA>;
export type ConfigProblem = SettingProblem;

/** Raw value of a setting: VAR, or for secrets the contents of the file named by VAR_FILE. */
function rawValue(s: Setting<unknown>, env: Env): string | undefined {
  const direct = env[s.env];
  const file = s.secret ? env[`${s.env}_FILE`] : undefined;
  if (file !== undefined && file !== '') {
    if (direct !== undefined && direct !== '') throw new ConfigValueError(`and ${s.env}_FILE are both set; set only one`);
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigValueError(`cannot be read from ${s.env}_FILE "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return direct;
}

/** Raw, unreadable bodies must never reach the consumers of the events (or the store). */
function checkDeadLetterTopic(c: Config): ConfigProblem[] {
  const taken = [c.kafkaTopic, c.stateTopic, `${c.stateTopic}.leader`];
  if (!taken.includes(c.kafkaDeadLetterTopic)) return [];
  return [{ variable: 'KAFKA_DEAD_LETTER_TOPIC', message: `KAFKA_DEAD_LETTER_TOPIC "${c.kafkaDeadLetterTopic}" must differ from KAFKA_TOPIC and KAFKA_STATE_TOPIC (and its .leader topic): give dead letters a topic of their own` }];
}

/** Validate the whole environment; throws HvgError(HVG_ERR_CONFIG) listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, s] of Object.entries(CONFIG_SCHEMA) as [string, Setting<unknown>][]) {
    try {
      out[key] = s.parse(rawValue(s, env));
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      problems.push({ variable: s.env, message: `${s.env} ${err.message}` });
    }
  }
  // checks across variables, once each variable is valid on its own
  if (problems.length === 0) problems.push(...checkInstanceSettings(out as Config), ...checkSubscriptionSettings(out as Config), ...checkKafkaSettings(out as Config), ...checkDeadLetterTopic(out as Config));
  if (problems.length > 0) {
    throw new HvgError('HVG_ERR_CONFIG', `invalid configuration:\n  ${problems.map((p) => p.message).join('\n  ')}`, { details: { problems } });
  }
  return Object.freeze(out) as Config;
}

/** Documentation rows for the README table (and the test that keeps it in sync). */
export function configDocs(): { variable: string; default: string | undefined; secret: boolean; doc: string }[] {
  return Object.values(CONFIG_SCHEMA).map((s: Setting<unknown>) => ({ variable: s.env, default: s.defaultText, secret: s.secret, doc: s.doc }));
}
