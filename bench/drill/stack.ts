// One drill's world, all on 127.0.0.1: a private Kafka broker (scripts/kafka.sh on a free port),
// the simulator in-process (US "1" and EU "2", the fixture app with ActionURL
// https://gw.test/hv/redirect.aspx, fast retries, deliveries rewritten to the gateway) and the
// gateway as a separate process on a fixed port with unique topics.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.ts';
import type { SimulatorConfig } from '../../src/simulator/sim-config.ts';
import { ADMIN_TOKEN, APP_CERT_PEM, APP_ID, PUBLIC_BASE, requiredEnv } from '../../support/fixtures.ts';
import { freePortPair, OwnBroker, silentLogger, uniqueTopic } from '../../support/kafka.ts';
import { freePort } from '../lib/proc.ts';
import { until, within, type Cleanup } from './cleanup.ts';
import { GatewayProcess, ROOT } from './gateway-process.ts';

export { GLUCOSE, PRESSURE, PUBLIC_BASE, WEIGHT } from '../../support/fixtures.ts';
export const INSTANCES = ['1', '2'] as const;

export interface StackOptions {
  name: string;
  cleanup: Cleanup;
  log: (m: string) => void;
  /** folder for the gateway logs */
  runDir: string;
  /** extra gateway environment */
  gatewayEnv?: Record<string, string>;
  sim?: SimulatorConfig;
}

export interface AdminAnswer {
  status: number;
  json: any;
}

export class DrillStack {
  readonly broker: OwnBroker;
  readonly sim: Simulator;
  readonly gateway: GatewayProcess;
  readonly topic: string;
  readonly stateTopic: string;
  readonly log: (m: string) => void;

  private constructor(broker: OwnBroker, sim: Simulator, gateway: GatewayProcess, topic: string, stateTopic: string, log: (m: string) => void) {
    this.broker = broker;
    this.sim = sim;
    this.gateway = gateway;
    this.topic = topic;
    this.stateTopic = stateTopic;
    this.log = log;
  }

  get brokers(): string[] {
    return [this.broker.address];
  }

  static async start(o: StackOptions): Promise<DrillStack> {
    mkdirSync(o.runDir, { recursive: true });
    const broker = new OwnBroker(await freePortPair());
    const brokerDir = join(ROOT, '.cache/kafka-run', String(broker.port));
    const pidFile = join(brokerDir, 'broker.pid');
    // registered before start: a start that times out may leave a broker running
    const stopBroker = async () => {
      await broker.stop();
      // a private, throwaway broker: keep its log with the drill's logs, drop its data
      if (existsSync(join(brokerDir, 'broker.log'))) copyFileSync(join(brokerDir, 'broker.log'), join(o.runDir, `broker-${o.name}.log`));
      rmSync(brokerDir, { recursive: true, force: true });
    };
    o.cleanup.add(`broker ${broker.address}`, stopBroker, () => readPid(pidFile));
    o.log(`${o.name}: starting a private broker on ${broker.address}`);
    await within('broker start', 200_000, broker.start());

    const sim = await startSimulator(
      {
        host: '127.0.0.1',
        logLevel: 'silent',
        applications: [{ appId: APP_ID, certificates: [APP_CERT_PEM], actionUrl: `${PUBLIC_BASE}/redirect.aspx` }],
        batchWindowMs: 20,
        maxNotificationsPerBatch: 10,
        timeScale: 600, // first retry after 60 s / 600 = 100 ms, doubling…
        retryMaxIntervalSeconds: 600, // …up to 1 s
        deliveryLogLimit: 10_000_000, // every batch stays in the log: the drill checks all of them
        ...o.sim,
      },
      { logger: silentLogger },
    );
    o.cleanup.add('simulator', () => sim.close());

    const port = await freePort();
    const topic = uniqueTopic(`drill-${o.name}`);
    const stateTopic = uniqueTopic(`drill-${o.name}-state`);
    const gateway = new GatewayProcess({
      port,
      adminPort: await freePort(),
      cleanup: o.cleanup,
      logPrefix: join(o.runDir, `gateway-${o.name}`),
      env: {
        ...requiredEnv(),
        HV_DISCOVERY_URL: sim.instances[0]!.platformUrl,
        KAFKA_BROKERS: broker.address,
        KAFKA_TOPIC: topic,
        KAFKA_STATE_TOPIC: stateTopic,
        KAFKA_TOPIC_PARTITIONS: '3',
        KAFKA_TOPIC_REPLICATION: '1',
        KAFKA_STATE_REPLICATION: '1',
        LEADER_SESSION_TIMEOUT_MS: '6000',
        HV_TOPOLOGY_REFRESH_MS: '60000',
        LOG_LEVEL: 'info',
        ...o.gatewayEnv,
      },
    });
    sim.setDeliveryRewrites([{ from: `${PUBLIC_BASE}/`, to: `${gateway.url}/` }]);
    const stack = new DrillStack(broker, sim, gateway, topic, stateTopic, o.log);
    // On a broker that has just started, creating and reading a new topic can fail once with
    // "This server does not host this topic-partition" and the gateway exits 1 (a known start-up
    // race, not what a drill is about): the first start gets one more try, logged.
    const { readyMs } = await gateway.start().catch(async (err: unknown) => {
      if (!/exited \(exit 1\) before it was ready/.test((err as Error).message)) throw err;
      o.log(`${o.name}: first gateway start failed (${(err as Error).message}); starting it once more`);
      return gateway.start();
    });
    o.log(`${o.name}: gateway pid ${gateway.pid} ready on ${gateway.url} in ${(readyMs / 1000).toFixed(1)} s`);
    return stack;
  }

  async admin(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    const res = await fetch(`${this.gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  /** State of one subscription per instance from the admin API ({} when unreachable). */
  async states(name: string): Promise<Record<string, string>> {
    const r = await this.admin('GET', `/v1/subscriptions/${name}`);
    if (r.status !== 200) return {};
    return Object.fromEntries((r.json.status as { instanceId: string; state: string }[]).map((s) => [s.instanceId, s.state]));
  }

  /** PUT a subscription and wait until it is in sync in `instances` (default: both). */
  async subscribe(name: string, typeIds: string[], withinMs = 30_000, instances: readonly string[] = INSTANCES): Promise<number> {
    const t0 = performance.now();
    const r = await this.admin('PUT', `/v1/subscriptions/${name}`, { typeIds });
    if (r.status !== 200 && r.status !== 201) throw new Error(`PUT /v1/subscriptions/${name}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    await this.inSync(name, withinMs, instances);
    return performance.now() - t0;
  }

  async inSync(name: string, withinMs: number, instances: readonly string[] = INSTANCES): Promise<void> {
    await until(`${name} in sync in ${instances.join(', ')}`, () => this.states(name), (s) => instances.every((id) => s[id] === 'in-sync'), withinMs, 150);
  }

  /** Our subscriptions (by callback URL) in one simulated instance. */
  ours(instanceId: string) {
    return this.sim.instance(instanceId).listSubscriptions().filter((s) => s.url.startsWith(`${PUBLIC_BASE}/notifications/`));
  }
}

function readPid(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
