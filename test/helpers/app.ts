// Builds the real app against the test broker, listening on 127.0.0.1:0, and always tears it down.
import type { Gateway as GatewayApp } from '../../src/plugins/gateway.ts';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { listenAll } from '../../src/plugins/admin.ts';
import { requiredEnv } from './env.ts';
import { brokers, uniqueTopic } from './kafka.ts';

/** extra: adds routes of the test's own to the real app before it listens */
export async function startApp(t: Test, env: Record<string, string> = {}, extra?: (app: GatewayApp) => void): Promise<{ app: GatewayApp; url: string; adminUrl: string; topic: string }> {
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
  extra?.(app);
  // /v1/*, /metrics and /openapi.json on the admin listener (ADMIN_PORT=0: a free port), unless the test sets ADMIN_PORT=shared
  const { url, adminUrl } = await listenAll(app, config.host, 0, config.adminPort);
  return { app, url, adminUrl, topic };
}
