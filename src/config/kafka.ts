// Settings of Kafka: brokers, topics, batching (KAFKA_SETTINGS) and the connection's security
// and topic creation (KAFKA_SECURITY_SETTINGS, also read alone by scripts through
// src/kafka/connection.ts). The names are a contract with operators and deploy files (issue 12):
// KAFKA_SSL*, KAFKA_SASL_*, KAFKA_CREATE_TOPICS. Checks across variables (a mechanism without
// credentials, a key without a certificate, an unreadable PEM) are in checkKafkaSettings; each
// problem names its variable.
import { readFileSync } from 'node:fs';
import { bool, brokerList, int, oneOf, problem, setting, text, type SettingProblem, type SettingValues } from './kit.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../kafka/api.ts';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const KAFKA_SETTINGS = {
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
  kafkaLingerMs: setting('KAFKA_LINGER_MS', 'A produce request waits up to this long (from its oldest record) for more records once the previous one is acknowledged (like the Java producer\'s linger.ms; a full batch goes at once): fewer, fuller produce requests at moderate rates (less client and broker CPU), for up to this much added latency; N senders that each wait for their answer get at most N ÷ (linger + round trip) answers per second. 0 = send as soon as the previous request is acknowledged.', 0, int(0, 1000)),
  kafkaSendIntervalMs: setting('KAFKA_SEND_INTERVAL_MS', 'The least time between the starts of two produce requests while records keep coming: records arriving within it share the next request (a full batch goes at once). Each produce request costs the gateway a socket write, a broker round trip and a wake-up, so at moderate rates this cuts its CPU per notification; a record after a quiet spell (no request for this long) is sent at once, so it adds latency only under load, at most this much; one sender that waits for each answer before sending the next gets at most one answer per interval. 0 = send as soon as the previous request is acknowledged.', 2, int(0, 1000)),
  kafkaMaxQueuedRecords: setting('KAFKA_MAX_QUEUED_RECORDS', 'Records allowed to wait for the next send; beyond it publishes fail fast (backpressure).', 50_000, int(1, 10_000_000)),
  kafkaLogLevel: setting('KAFKA_LOG_LEVEL', 'Level of kafkajs logs bridged into pino (KAFKA_CLIENT=kafkajs; @platformatic/kafka logs through DEBUG=plt:kafka:*).', 'warn', oneOf(['error', 'warn', 'info', 'debug'] as const)),
} as const;

const path = text(/^[^\0]{1,4096}$/, 'a file path');

export const KAFKA_SECURITY_SETTINGS = {
  kafkaSsl: setting('KAFKA_SSL', 'Connect to Kafka over TLS (true/false).', false, bool),
  kafkaSslCaFile: setting('KAFKA_SSL_CA_FILE', 'PEM bundle of the CAs that sign the brokers\' certificates (needs KAFKA_SSL=true).', '', path, { defaultText: '(system CAs)' }),
  kafkaSslCertFile: setting('KAFKA_SSL_CERT_FILE', 'PEM client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE).', '', path, { defaultText: '(none)' }),
  kafkaSslKeyFile: setting('KAFKA_SSL_KEY_FILE', 'PEM private key of KAFKA_SSL_CERT_FILE (unencrypted).', '', path, { defaultText: '(none)' }),
  kafkaSslServername: setting('KAFKA_SSL_SERVERNAME', 'TLS server name (SNI and certificate check) when it differs from the broker host.', '', text(/^[A-Za-z0-9.-]{1,253}$/, 'a host name'), { defaultText: '(broker host)' }),
  kafkaSaslMechanism: setting<SaslMechanism | ''>('KAFKA_SASL_MECHANISM', `SASL mechanism: ${SASL_MECHANISMS.join(', ')} (unset: no SASL).`, '', oneOf(SASL_MECHANISMS), { defaultText: '(none)' }),
  kafkaSaslUsername: setting('KAFKA_SASL_USERNAME', 'SASL user name (with KAFKA_SASL_MECHANISM).', '', text(/^[^\0\n]{1,1024}$/, 'a user name'), { defaultText: '(none)' }),
  kafkaSaslPassword: setting('KAFKA_SASL_PASSWORD', 'SASL password (with KAFKA_SASL_MECHANISM). Never logged.', '', (raw) => raw, { secret: true, defaultText: '(none)' }),
  kafkaCreateTopics: setting('KAFKA_CREATE_TOPICS', 'Create missing topics at start (needs the Create ACL); false: a missing topic stops the start with an error naming it.', true, bool),
} as const;

export type KafkaSecurityValues = SettingValues<typeof KAFKA_SECURITY_SETTINGS>;

/** Which library speaks to Kafka (issue 17); only the chosen one is loaded. */
export const KAFKA_CLIENT_SETTINGS = {
  kafkaClient: setting<KafkaClientName>('KAFKA_CLIENT', `Kafka client library: ${KAFKA_CLIENTS.join(' or ')} (@platformatic/kafka); only the chosen one is loaded. Guarantees per client: README "Kafka clients".`, DEFAULT_KAFKA_CLIENT, oneOf(KAFKA_CLIENTS)),
} as const;

type Reader = (file: string) => string;
const readUtf8: Reader = (file) => readFileSync(file, 'utf8');

/** Read a PEM file; a problem naming the variable when it cannot be read or holds no `what` block. */
function pemProblem(variable: string, file: string, label: string, read: Reader): SettingProblem | null {
  let pem: string;
  try {
    pem = read(file);
  } catch (err) {
    return { variable, message: `${variable} "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem)) return { variable, message: `${variable} "${file}" is not a PEM file with a ${label} block` };
  if (/ENCRYPTED/.test(pem) && /PRIVATE KEY/.test(pem)) return { variable, message: `${variable} "${file}" holds an encrypted key; give an unencrypted one (mount it as a secret)` };
  return null;
}

/** Checks across the Kafka security variables; an empty list when they fit together. */
export function checkKafkaSettings(c: KafkaSecurityValues, read: Reader = readUtf8): SettingProblem[] {
  const out: SettingProblem[] = [];
  const p = (variable: string, message: string) => out.push(problem(variable, message));
  if (c.kafkaSaslMechanism !== '') {
    if (c.kafkaSaslUsername === '') p('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM=${c.kafkaSaslMechanism}`);
    if (c.kafkaSaslPassword === '') p('KAFKA_SASL_PASSWORD', `(or KAFKA_SASL_PASSWORD_FILE) is required with KAFKA_SASL_MECHANISM=${c.kafkaSaslMechanism}`);
  } else {
    if (c.kafkaSaslUsername !== '') p('KAFKA_SASL_MECHANISM', 'is required when KAFKA_SASL_USERNAME is set (plain, scram-sha-256 or scram-sha-512)');
    else if (c.kafkaSaslPassword !== '') p('KAFKA_SASL_MECHANISM', 'is required when KAFKA_SASL_PASSWORD is set (plain, scram-sha-256 or scram-sha-512)');
  }
  const files = [
    ['KAFKA_SSL_CA_FILE', c.kafkaSslCaFile, 'CERTIFICATE'],
    ['KAFKA_SSL_CERT_FILE', c.kafkaSslCertFile, 'CERTIFICATE'],
    ['KAFKA_SSL_KEY_FILE', c.kafkaSslKeyFile, 'PRIVATE KEY'],
  ] as const;
  if (!c.kafkaSsl) {
    for (const [variable, file] of files) if (file !== '') p(variable, 'is set but KAFKA_SSL is not true; set KAFKA_SSL=true to use TLS');
    if (c.kafkaSslServername !== '') p('KAFKA_SSL_SERVERNAME', 'is set but KAFKA_SSL is not true');
    return out;
  }
  if (c.kafkaSslCertFile !== '' && c.kafkaSslKeyFile === '') p('KAFKA_SSL_KEY_FILE', 'is required with KAFKA_SSL_CERT_FILE (mutual TLS needs both)');
  if (c.kafkaSslKeyFile !== '' && c.kafkaSslCertFile === '') p('KAFKA_SSL_CERT_FILE', 'is required with KAFKA_SSL_KEY_FILE (mutual TLS needs both)');
  for (const [variable, file, label] of files) {
    if (file === '') continue;
    const problem = pemProblem(variable, file, label, read);
    if (problem) out.push(problem);
  }
  return out;
}

/** Raw, unreadable bodies must never reach the consumers of the events (or the store). */
export function checkDeadLetterTopic(c: { readonly kafkaTopic: string; readonly kafkaDeadLetterTopic: string; readonly stateTopic: string }): SettingProblem[] {
  const taken = [c.kafkaTopic, c.stateTopic, `${c.stateTopic}.leader`];
  if (!taken.includes(c.kafkaDeadLetterTopic)) return [];
  return [{ variable: 'KAFKA_DEAD_LETTER_TOPIC', message: `KAFKA_DEAD_LETTER_TOPIC "${c.kafkaDeadLetterTopic}" must differ from KAFKA_TOPIC and KAFKA_STATE_TOPIC (and its .leader topic): give dead letters a topic of their own` }];
}
