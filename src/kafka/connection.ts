// Where and how to reach Kafka, independent of the client library: the seam a second client
// (issue 17) would translate from, as client.ts translates it for kafkajs. Built from the
// validated configuration, or from an environment by scripts, benchmarks and test helpers, so
// every Kafka client the project runs takes the same KAFKA_* settings.
import { readFileSync } from 'node:fs';
import { brokerList, parseSettings, setting, type Env } from '../config/kit.ts';
import { HvgError } from '../errors.ts';
import { KAFKA_SECURITY_SETTINGS, checkKafkaSettings, type KafkaSecurityValues, type SaslMechanism } from '../config/kafka.ts';

export interface KafkaTls {
  /** PEM contents, read at client construction (a rotated file is picked up by a restart) */
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface KafkaSecurity {
  tls: KafkaTls | null;
  sasl: { mechanism: SaslMechanism; username: string; password: string } | null;
}

export interface KafkaConnection {
  brokers: readonly string[];
  clientId: string;
  security: KafkaSecurity;
}

export const PLAINTEXT: KafkaSecurity = { tls: null, sasl: null };

/** The security part of a validated configuration (checkKafkaSettings already passed). */
export function kafkaSecurity(c: KafkaSecurityValues): KafkaSecurity {
  const read = (f: string) => (f === '' ? undefined : readFileSync(f, 'utf8'));
  const tls: KafkaTls | null = c.kafkaSsl ? {} : null;
  if (tls) {
    const [ca, cert, key] = [read(c.kafkaSslCaFile), read(c.kafkaSslCertFile), read(c.kafkaSslKeyFile)];
    if (ca !== undefined) tls.ca = ca;
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    if (c.kafkaSslServername !== '') tls.servername = c.kafkaSslServername;
  }
  const sasl = c.kafkaSaslMechanism === '' ? null : { mechanism: c.kafkaSaslMechanism, username: c.kafkaSaslUsername, password: c.kafkaSaslPassword };
  return { tls, sasl };
}

/** Parse only the KAFKA_* connection settings of an environment (scripts, bench, test helpers). */
export function kafkaConnectionFromEnv(env: Env, clientId: string, defaultBrokers = '127.0.0.1:9092'): KafkaConnection {
  const schema = { brokers: setting('KAFKA_BROKERS', 'Bootstrap brokers.', brokerList(defaultBrokers), brokerList), ...KAFKA_SECURITY_SETTINGS };
  const { values, problems } = parseSettings(schema, env);
  if (problems.length === 0) problems.push(...checkKafkaSettings(values));
  if (problems.length > 0) throw new HvgError('HVG_ERR_CONFIG', `invalid Kafka settings:\n  ${problems.map((p) => p.message).join('\n  ')}`);
  return { brokers: values.brokers, clientId, security: kafkaSecurity(values) };
}

/** For logs: where and how, never a secret. */
export function describeConnection(c: KafkaConnection): { brokers: readonly string[]; tls: boolean; sasl: string | null } {
  return { brokers: c.brokers, tls: c.security.tls !== null, sasl: c.security.sasl ? `${c.security.sasl.mechanism}:${c.security.sasl.username}` : null };
}
