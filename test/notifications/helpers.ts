// The notification route in a small Fastify app over real HTTP, against the real broker (store
// and sink) and a real instance registry; bodies built and signed by the codec.
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { pino } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import { request } from 'undici';
import { loadConfig } from '../../src/config/index.ts';
import { notificationAuthorizationFor, type RecordChangeNotification } from '../../src/healthvault/index.ts';
import { InstanceRegistry } from '../../src/instances/registry.ts';
import type { createMetrics } from '../../src/metrics.ts';
import { NotificationReceiver } from '../../src/notifications/receiver.ts';
import errorHandler from '../../src/plugins/error-handler.ts';
import metricsPlugin from '../../src/plugins/metrics.ts';
import notificationsRoute, { type NotificationRouteOptions } from '../../src/routes/notifications.ts';
import type { Metrics } from '../../src/metrics.ts';
import { createKafkaSink, type KafkaSink } from '../../src/sink/kafka-sink.ts';
import { KeyDeriver } from '../../src/subscriptions/keys.ts';
import type { SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { KafkaStateLog } from '../../src/subscriptions/store.ts';
import { requiredEnv } from '../helpers/env.ts';
import { brokers, silentLogger, uniqueTopic } from '../helpers/kafka.ts';
import { GLUCOSE } from '../../support/fixtures.ts';

/** Environment for an explicit instance list (platforms on a closed port: never reached here). */
export function instancesEnv(ids: readonly string[]): Record<string, string> {
  const list = ids.map((id) => ({ id, name: `I${id}`, platformUrl: `http://127.0.0.1:9/${id}/platform/wildcat.ashx`, shellUrl: `http://127.0.0.1:9/${id}/shell/` }));
  return { HV_DISCOVERY_URL: '', HV_INSTANCES: JSON.stringify(list) };
}

/** A real registry serving a fixed list (HV_INSTANCES: it has its view at once, opens no connection until asked). */
export function servedInstances(t: Test, ids: readonly string[]): InstanceRegistry {
  const settings = loadConfig({ ...requiredEnv(), ...instancesEnv(ids) });
  const registry = new InstanceRegistry({ settings, logger: silentLogger });
  t.teardown(() => registry.close());
  return registry;
}

export const SECRET = 'receiver-test-master-secret-0123456789abcdef';
export const SUB_US = '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218';
export const SUB_EU = 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35';
export const keys = new KeyDeriver(SECRET);

export const spec = (over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name: 'glucose', eventType: 'record-item-changed', typeIds: [GLUCOSE], instances: null,
  keyVersion: 1, previousKeyVersion: null, keyRotatedAt: null, revision: 1, createdAt: '', updatedAt: '', ...over,
});

export const notification = (subscriptionId: string, things = 1): RecordChangeNotification => ({
  subscriptionId, personId: randomUUID(), recordId: randomUUID(), thingIds: Array.from({ length: things }, () => randomUUID()),
});

export interface Harness { url: string; topic: string; deadLetterTopic: string; store: KafkaStateLog; sink: KafkaSink; metrics: ReturnType<typeof createMetrics>; receiver: NotificationReceiver }

export interface HarnessOptions {
  rateLimit?: number;
  authFailureLimit?: number;
  bodyLimit?: number;
  /** collect the app's log lines (warn and above) here */
  log?: string[];
  logBudget?: { perWindow: number; windowMs: number };
}

export async function harness(t: Test, opts: HarnessOptions = {}): Promise<Harness> {
  const topic = uniqueTopic('notif');
  const deadLetterTopic = uniqueTopic('notif-dead');
  const store = new KafkaStateLog({ brokers, clientId: 'hvg-test', topic: uniqueTopic('state'), replicationFactor: 1, connectTimeoutMs: 20_000, writeTimeoutMs: 10_000, keyRetryHorizonMs: 60_000, kafkaLogLevel: 'error', logger: silentLogger });
  await store.start();
  t.teardown(() => store.close());
  const sink = await createKafkaSink({ brokers, clientId: 'hvg-test', topic, partitions: 3, replicationFactor: 1, connectTimeoutMs: 20_000, publishTimeoutMs: 5000, maxBatchRecords: 500, maxBatchBytes: 900_000, maxQueuedRecords: 50_000, kafkaLogLevel: 'error', logger: silentLogger, extraTopics: [{ topic: deadLetterTopic, variable: 'KAFKA_DEAD_LETTER_TOPIC' }] });
  t.teardown(() => sink.close());
  await store.writeSpec(spec());
  const observe = (instanceId: string, id: string) =>
    store.writeObservation({ instanceId, name: 'glucose', hvSubscriptionId: id, knownIds: [id], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null });
  await observe('1', SUB_US);
  await observe('2', SUB_EU);
  const log = opts.log;
  const { url, metrics, receiver } = await routeApp(t, (metrics) => new NotificationReceiver({
    view: store.view, instances: servedInstances(t, ['1', '2']), keys, sink, metrics, acceptHexMac: false,
    rateLimit: opts.rateLimit ?? 100_000, authFailureLimit: opts.authFailureLimit ?? 100_000, rateWindowMs: 60_000, deadLetterTopic,
  }), { bodyLimitBytes: opts.bodyLimit ?? 65_536, retryAfterSeconds: 7, basePath: '/hv', ...(opts.logBudget ? { logBudget: opts.logBudget } : {}) }, log);
  return { url, topic, deadLetterTopic, store, sink, metrics, receiver };
}

/**
 * The route in a small app over real HTTP with the app's real error handler and metrics; the
 * test's receiver (real, on test-sized budgets) takes the place of the plugin that builds it
 * from the app's decorators (hvg-notifications).
 */
export async function routeApp(t: Test, receiverOf: (metrics: Metrics) => NotificationReceiver, route: NotificationRouteOptions, log?: string[]): Promise<{ url: string; metrics: Metrics; receiver: NotificationReceiver }> {
  const logger = log === undefined ? silentLogger : pino({ level: 'warn' }, { write: (line: string) => void log.push(line) });
  const app = Fastify({ loggerInstance: logger });
  await app.register(errorHandler, { retryAfterSeconds: route.retryAfterSeconds, bodyLimitBytes: route.bodyLimitBytes });
  await app.register(metricsPlugin);
  const receiver = receiverOf(app.metrics);
  await app.register(fp(async (a) => {
    a.decorate('notificationReceiver', receiver);
  }, { name: 'hvg-notifications' }));
  await app.register(notificationsRoute, route);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return { url, metrics: app.metrics, receiver };
}

export async function post(url: string, path: string, body: string | Buffer, authorization?: string) {
  const res = await request(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8', ...(authorization ? { authorization } : {}) } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : null };
}

export const sign = (instanceId: string, subId: string, body: string | Buffer, version = 1) => notificationAuthorizationFor(subId, `v${version}`, keys.key(instanceId, 'glucose', version), body);

