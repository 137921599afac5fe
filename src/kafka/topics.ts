// ensureTopics: the topics a component needs, created when missing (KAFKA_CREATE_TOPICS) with
// the configured partitions, replication and configs, then waited for until the metadata shows
// a leader for every partition. A broker that has just started answers "not leader", "unknown
// topic" or refuses connections for a while: those are retried quietly (debug) until the
// deadline; wrong credentials or a missing ACL fail at once (errors.ts).
// Only missing topics are created, so a principal without the Create ACL works against
// topics an operator made beforehand. Works with either client: a client-neutral KafkaClient
// (api.ts) or a kafkajs Kafka (scripts, tests), both seen through the neutral KafkaAdmin.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import type { KafkaAdmin, KafkaClient } from './api.ts';
import { disconnectWithin, retryUntil } from './errors.ts';
import { kafkajsAdmin } from './kafkajs-admin.ts';

export interface TopicSpec {
  topic: string;
  /** the setting that names the topic, for messages (e.g. KAFKA_TOPIC) */
  variable: string;
  partitions: number;
  /** -1 = broker default */
  replicationFactor: number;
  configs?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  /** KAFKA_CREATE_TOPICS: false = a missing topic is an error naming it */
  create: boolean;
  /** absolute time (ms) by which the topics must be ready (from KAFKA_CONNECT_TIMEOUT_MS) */
  deadline: number;
  logger: Logger;
}

export interface TopicState {
  topic: string;
  partitions: number;
  created: boolean;
}

/** Ensure every topic exists and has a leader for each partition; resolves with their partition counts. */
export async function ensureTopics(client: Kafka | KafkaClient, specs: readonly TopicSpec[], o: EnsureTopicsOptions): Promise<Map<string, TopicState>> {
  const log = o.logger.child({ module: 'kafka-topics' });
  const names = specs.map((s) => s.topic);
  const admin = 'explain' in client ? client.admin() : kafkajsAdmin(client.admin());
  try {
    await retryUntil('connecting to Kafka', o.deadline, log, () => admin.connect());
    const existing = new Set(await retryUntil('listing topics', o.deadline, log, () => admin.listTopics()));
    const missing = specs.filter((s) => !existing.has(s.topic));
    const created = new Set<string>();
    if (missing.length > 0 && !o.create) {
      const list = missing.map((s) => `${s.topic} (${s.variable})`).join(', ');
      throw new HvgError('HVG_ERR_KAFKA_FATAL', `topic ${list} does not exist (or this principal may not Describe it) and KAFKA_CREATE_TOPICS=false: create it, or allow the gateway to`);
    }
    if (missing.length > 0) {
      for (const t of await createMissing(admin, missing, o.deadline, log)) created.add(t);
    }
    const state = await retryUntil(`waiting for leaders of ${names.join(', ')}`, o.deadline, log, () => leadersOf(admin, names));
    const out = new Map<string, TopicState>();
    for (const s of specs) out.set(s.topic, { topic: s.topic, partitions: state.get(s.topic) ?? 0, created: created.has(s.topic) });
    return out;
  } finally {
    await disconnectWithin({ disconnect: () => admin.close() });
  }
}

async function createMissing(admin: KafkaAdmin, missing: readonly TopicSpec[], deadline: number, log: Logger): Promise<string[]> {
  const what = `creating topic ${missing.map((s) => `${s.topic} (${s.variable})`).join(', ')}`;
  await retryUntil(what, deadline, log, () => admin.createTopics(missing));
  for (const s of missing) log.info({ topic: s.topic, partitions: s.partitions, replicationFactor: s.replicationFactor, configs: s.configs ?? {} }, 'created topic');
  return missing.map((s) => s.topic);
}

class NotReady extends Error {
  readonly retriable = true;
}

/** Partition count per topic once every partition has a leader; rejects (retriable) until then. */
async function leadersOf(admin: KafkaAdmin, topics: readonly string[]): Promise<Map<string, number>> {
  const meta = await admin.partitions(topics);
  const out = new Map<string, number>();
  for (const name of topics) {
    const partitions = meta.get(name) ?? [];
    if (partitions.length === 0) throw new NotReady(`topic ${name} is not in the metadata yet`);
    const leaderless = partitions.filter((p) => p.leader < 0 || p.failed);
    if (leaderless.length > 0) throw new NotReady(`topic ${name}: no leader yet for partition(s) ${leaderless.map((p) => p.partition).join(',')}`);
    out.set(name, partitions.length);
  }
  return out;
}
