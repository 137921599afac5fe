// Builds the real app against the test broker, listening on 127.0.0.1:0, and always tears it down.
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { requiredEnv } from './env.ts';
import { brokers, uniqueTopic } from './kafka.ts';

export async function startApp(t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string; adminUrl: string; topic: string }> {
  const topic = env.KAFKA_TOPIC ?? uniqueTopic('app');
  const config = loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_TOPIC_PARTITIONS: '3',
    KAFKA_TOPIC_REPLICATION: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    ...requiredEnv(),
    ...env,
  });
  const app = await buildApp(config);
  t.teardown(() => app.close());
  const url = await app.listen({ host: config.host, port: 0 });
  // where /v1/*, /metrics and /openapi.json are served (the same listener until the admin port moves)
  const adminUrl = url;
  return { app, url, adminUrl, topic };
}
