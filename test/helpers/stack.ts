// The whole thing over real sockets: the simulator (US "1", EU "2") → the real gateway app →
// the real broker. Callback URLs are https://gw.test/hv/notifications/… (HealthVault only
// delivers to https and checks the ActionURL root); the simulator rewrites that base to the
// gateway's plain-HTTP loopback address when it POSTs.
import type { Gateway as GatewayApp } from '../../src/plugins/gateway.ts';
import type { Test } from 'tap';
import { request } from 'undici';
import { buildApp } from '../../src/app.ts';
import { CONFIG_SCHEMA, loadConfig } from '../../src/config/index.ts';
import { listenAll } from '../../src/plugins/admin.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import type { SimulatorConfig } from '../../src/simulator/sim-config.ts';
import { ADMIN_TOKEN, PUBLIC_BASE, requiredEnv } from '../../support/fixtures.ts';
import { brokers, e2eOverSaslSsl, securedGatewayEnv, securedListener, uniqueTopic } from '../../support/kafka.ts';
import { startSim as startSimulatorFor } from './sim.ts';

export { GLUCOSE, PRESSURE, PUBLIC_BASE, WEIGHT } from '../../support/fixtures.ts';

/** Deliveries fast enough for end-to-end tests. */
export const FAST_DELIVERY: SimulatorConfig = {
  batchWindowMs: 10,
  timeScale: 600, // first retry after 60 s / 600 = 100 ms
  retryMaxIntervalSeconds: 600, // → 1 s cap
};

/** The simulator of the end-to-end tests: helpers/sim.ts's, with FAST_DELIVERY. */
export const startSim = (t: Test, over: SimulatorConfig = {}): Promise<Simulator> => startSimulatorFor(t, { ...FAST_DELIVERY, ...over });

export interface Gateway {
  app: GatewayApp;
  url: string;
  /** where /v1/*, /metrics and /openapi.json are served; call admin routes through admin() */
  adminUrl: string;
  topic: string;
  stateTopic: string;
  /** KAFKA_DEAD_LETTER_TOPIC (unique per gateway unless given) */
  deadLetterTopic: string;
  /** KAFKA_THINGS_TOPIC (unique per gateway unless given) */
  thingsTopic: string;
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; json: any }>;
}

/**
 * A gateway replica; pass the same topics to build a second replica or a restart. Without
 * `opts.brokers` it connects to the suite's SASL_SSL listener as the least-privilege gateway
 * principal when there is one (test/helpers/kafka.ts e2eOverSaslSsl), else to KAFKA_BROKERS.
 */
export async function startGateway(t: Test, sim: Simulator, env: Record<string, string> = {}, opts: { brokers?: string[] } = {}): Promise<Gateway> {
  const topic = env.KAFKA_TOPIC ?? uniqueTopic('events');
  const stateTopic = env.KAFKA_STATE_TOPIC ?? uniqueTopic('state');
  const deadLetterTopic = env.KAFKA_DEAD_LETTER_TOPIC ?? uniqueTopic('dead');
  const thingsTopic = env.KAFKA_THINGS_TOPIC ?? uniqueTopic('things');
  // routed topics (residency) are granted like their defaults: the ACL list covers them
  const routes = { events: CONFIG_SCHEMA.kafkaTopicRoutes.parse(env.KAFKA_TOPIC_ROUTES), deadLetter: CONFIG_SCHEMA.kafkaDeadLetterTopicRoutes.parse(env.KAFKA_DEAD_LETTER_TOPIC_ROUTES), things: CONFIG_SCHEMA.kafkaThingsTopicRoutes.parse(env.KAFKA_THINGS_TOPIC_ROUTES) };
  const secured = opts.brokers === undefined && e2eOverSaslSsl && securedListener ? await securedGatewayEnv(securedListener, topic, stateTopic, undefined, deadLetterTopic, { thingsTopic, routes }) : {};
  t.comment(secured.KAFKA_BROKERS ? `gateway over SASL_SSL ${secured.KAFKA_BROKERS} as ${secured.KAFKA_SASL_USERNAME}` : `gateway over plaintext`);
  const config = loadConfig({
    ...requiredEnv(),
    HV_DISCOVERY_URL: sim.instances[0]!.platformUrl,
    KAFKA_BROKERS: (opts.brokers ?? brokers).join(','),
    ...secured,
    KAFKA_TOPIC: topic,
    KAFKA_STATE_TOPIC: stateTopic,
    KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
    KAFKA_THINGS_TOPIC: thingsTopic,
    KAFKA_TOPIC_PARTITIONS: '3',
    KAFKA_TOPIC_REPLICATION: '1',
    KAFKA_STATE_REPLICATION: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    RECONCILE_INTERVAL_MS: '60000',
    LEADER_SESSION_TIMEOUT_MS: '6000',
    HV_TOPOLOGY_REFRESH_MS: '60000',
    ...env,
  });
  const app = await buildApp(config, { waitForInstances: true });
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await app.close();
    }
  };
  t.teardown(close);
  const { url, adminUrl } = await listenAll(app, '127.0.0.1', 0, config.adminPort);
  sim.setDeliveryRewrites([...sim.deliveryRewrites.filter((r) => r.from !== `${PUBLIC_BASE}/`), { from: `${PUBLIC_BASE}/`, to: `${url}/` }]);
  const admin: Gateway['admin'] = async (method, path, body, headers = {}) => {
    const res = await request(`${adminUrl}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : null };
  };
  return { app, url, adminUrl, topic, stateTopic, deadLetterTopic, thingsTopic, admin };
}

export async function eventually<T>(what: string, fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Our subscriptions in one simulated instance (by URL prefix). */
export const ours = (sim: Simulator, instanceId: string) => sim.instance(instanceId).listSubscriptions().filter((s) => s.url.startsWith(`${PUBLIC_BASE}/notifications/`));
