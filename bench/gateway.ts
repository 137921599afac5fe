// G, the gateway end to end — the extension point for when the notification route exists
// (POST /notifications/{instanceId}/{name}, 200 after Kafka acks).
//
// What is ready:
//   runGatewayScenario(ctx, target)  the same procedure as H and B (warm-up, connection sweep,
//     closed-loop maximum × repeats, open loop at 25/50/75 % of it × repeats, CPU-µs/req, RSS,
//     correctness gate on the gateway's topic), then K_js open loop at the SAME absolute rates so
//     "p99(G) ≤ p99(K_js at R) + 3 ms" compares like with like.
//   ratios(...)  gateway / combined bound 1/(1/H+1/P+1/K) and gateway / min(H, P, K), and the
//     issue's targets.
//
// What is left to fill in: startGateway() below — start the real server pinned to the SUT core
// with a subscription whose notification key the bench knows, and say how to sign a body.
import type { ChildProcess } from 'node:child_process';
import type { BenchContext } from './lib/context.ts';
import type { HttpRequestSpec } from './lib/load.ts';
import { runHttpScenario } from './lib/http-scenario.ts';
import type { OpenPoint, ScenarioResult } from './lib/results.ts';
import { runJsonScript, startProbedNodeOnSut } from './lib/context.ts';
import type { Probe } from './lib/loop-stats.ts';
import { DEFAULT_KAFKA_CLIENT, type KafkaClientName } from '../src/kafka/api.ts';
import { readFileSync } from 'node:fs';
import { startCommand } from '../support/start-command.ts';
import { join } from 'node:path';
import { pino } from 'pino';
import { notificationKeyObject } from '../src/healthvault/index.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import { KeyDeriver } from '../src/subscriptions/keys.ts';
import { benchTopic } from './lib/kafka.ts';
import { freePort, stopChild, waitHttpOk } from './lib/proc.ts';
import { INSTANCE_ID, SUBSCRIPTION_NAME, payloadPool, signatureHeader, type Payload } from './payloads.ts';
import type { SinkJob, SinkResult } from './sink-bench.ts';
import { GLUCOSE } from '../support/fixtures.ts';

export interface GatewayTarget {
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** pid of the gateway process (CPU and RSS are read from /proc/<pid>) */
  pid: number;
  /** the gateway's KAFKA_TOPIC (the gate reads its offsets before and after every run) */
  topic: string;
  /** path for a body, e.g. () => '/notifications/1/bench' */
  path: (p: Payload) => string;
  /** the request headers for one body: content-type and the signed Authorization */
  headers: (p: Payload) => Record<string, string>;
  /** the HealthVault subscription id the bodies must carry (the receiver checks it against the URL's subscription) */
  subscriptionId: string;
  /** Kafka records one 2xx stands for (notifications per body; the bench bodies carry one) */
  recordsPerRequest?: number;
}

export interface GatewayHandle extends GatewayTarget {
  child: ChildProcess;
  /** the in-process probe (event-loop delay, GC pauses, memory) */
  probe: Probe;
  stop(): Promise<void>;
}

/**
 * The real gateway (src/server.ts, production settings and default log level) pinned to the SUT
 * core, against the bench's broker. Its instance is the simulator, started here in the
 * orchestrator's process (core 1: not under test): the gateway discovers it, the subscription
 * "bench" is created over the admin API, the reconciler registers it, and the bench signs every
 * body with the key the gateway derives for (instance 1, bench, v1) and the HealthVault
 * subscription id the simulator assigned — exactly what an instance would send.
 */
export async function startGateway(ctx: BenchContext, client: KafkaClientName = DEFAULT_KAFKA_CLIENT): Promise<GatewayHandle | null> {
  const fixture = (f: string) => readFileSync(join(ctx.root, 'test/fixtures/healthvault', f), 'utf8');
  const sim = await startSimulator(
    { host: '127.0.0.1', logLevel: 'silent', applications: [{ appId: APP_ID, certificates: [fixture('test-app-cert.TEST-ONLY.pem')], actionUrl: `${PUBLIC_BASE}/redirect.aspx` }] },
    { logger: pino({ level: 'silent' }) },
  );
  const port = await freePort();
  const adminPort = await freePort();
  const topic = benchTopic('gateway');
  const origin = `http://127.0.0.1:${port}`;
  // the admin API lives on its own listener (ADMIN_PORT), as in production
  const adminOrigin = `http://127.0.0.1:${adminPort}`;
  // started exactly as `npm start` does (same V8 flags and environment: see package.json), plus the bench's
  // in-process probe (bench/lib/loop-probe.ts, preloaded with --import)
  const { child, probe } = await startProbedNodeOnSut(ctx, startCommand().script, [], {
    nodeFlags: PRODUCTION_NODE_FLAGS,
    logName: `gateway-${client}.log`,
    env: {
      ...PRODUCTION_ENV,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      KAFKA_BROKERS: ctx.brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_REPLICATION: '1',
      KAFKA_STATE_TOPIC: benchTopic('gateway-state'),
      KAFKA_STATE_REPLICATION: '1',
      PUBLIC_BASE_URL: PUBLIC_BASE,
      HV_MASTER_SECRET: SECRET,
      ADMIN_TOKENS: TOKEN,
      HV_APP_ID: APP_ID,
      HV_APP_CERT: fixture('test-app-cert.TEST-ONLY.pem'),
      HV_APP_PRIVATE_KEY: fixture('test-app-key.TEST-ONLY.pem'),
      HV_DISCOVERY_URL: sim.instances[0]!.platformUrl,
      HV_INSTANCE_FILTER: '1',
      // the bench measures throughput, not the per-instance guard rail
      NOTIFICATION_RATE_LIMIT: '10000000',
      // which Kafka client G runs with (KAFKA_CLIENT; bench/run.ts runs G with each of BENCH_G_CLIENTS)
      KAFKA_CLIENT: client,
      // the sink's linger: the gateway's default unless the bench's environment sets it (then K runs with the same)
      ...(process.env.KAFKA_LINGER_MS !== undefined ? { KAFKA_LINGER_MS: process.env.KAFKA_LINGER_MS } : {}),
      ...(process.env.KAFKA_SEND_INTERVAL_MS !== undefined ? { KAFKA_SEND_INTERVAL_MS: process.env.KAFKA_SEND_INTERVAL_MS } : {}),
    },
  });
  const stop = async () => {
    await stopChild(child, 25_000);
    await sim.close();
  };
  try {
    await waitHttpOk(`${origin}/readyz`, 60_000, child);
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const put = await fetch(`${adminOrigin}/v1/subscriptions/${SUBSCRIPTION_NAME}`, { method: 'PUT', headers: auth, body: JSON.stringify({ typeIds: [GLUCOSE] }) });
    if (put.status !== 201 && put.status !== 200) throw new Error(`PUT subscription: ${put.status} ${await put.text()}`);
    let hvId: string | null = null;
    for (const end = Date.now() + 30_000; hvId === null && Date.now() < end; ) {
      const view = (await (await fetch(`${adminOrigin}/v1/subscriptions/${SUBSCRIPTION_NAME}`, { headers: auth })).json()) as { status: { instanceId: string; state: string; hvSubscriptionId: string | null }[] };
      const us = view.status.find((x) => x.instanceId === INSTANCE_ID);
      if (us?.state === 'in-sync') hvId = us.hvSubscriptionId;
      else await new Promise((r) => setTimeout(r, 200));
    }
    if (hvId === null) throw new Error('the bench subscription did not get in sync within 30 s');
    const key = notificationKeyObject(new KeyDeriver(SECRET).key(INSTANCE_ID, SUBSCRIPTION_NAME, 1));
    const subscriptionId = hvId;
    return {
      child,
      probe,
      pid: child.pid!,
      origin,
      topic,
      subscriptionId,
      path: () => `/notifications/${INSTANCE_ID}/${SUBSCRIPTION_NAME}`,
      headers: (p) => ({ 'content-type': 'text/xml; charset=utf-8', authorization: signatureHeader(p.body, key, subscriptionId, 'v1') }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The node flags of `npm start` (package.json; the Dockerfile's CMD has the same, a test checks),
 * or BENCH_GATEWAY_NODE_FLAGS to compare others.
 */
export const PRODUCTION_NODE_FLAGS = process.env.BENCH_GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean) ?? [...startCommand().nodeFlags];
/**
 * The environment `npm start` sets before node (the Dockerfile's ENV has the same, a test checks);
 * the bench's own environment may override a value to compare (e.g. MALLOC_ARENA_MAX=8).
 */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(startCommand().env).map(([k, v]) => [k, process.env[k] ?? v]));

const SECRET = 'bench-master-secret-not-for-production-0123456789';
const TOKEN = 'bench-admin-token-0123456789';
const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
const PUBLIC_BASE = 'https://gw.bench/hv';

export const GATEWAY_NOT_WIRED = 'not wired yet: fill in startGateway() in bench/gateway.ts once POST /notifications/{instanceId}/{name} exists';

export interface GatewayResult {
  /** the gateway's KAFKA_CLIENT in this run */
  client: KafkaClientName;
  g: ScenarioResult;
  /** K_js open loop at G's open-loop rates (same absolute msg/s) */
  kAtG: SinkResult | null;
}

/** G for one body size: the H/B procedure against the gateway, then K_js at G's rates. */
/** G's row id: "G" with the default Kafka client, G_plt / G_js with the other. */
export const gId = (client: KafkaClientName): string => (client === DEFAULT_KAFKA_CLIENT ? 'G' : client === 'kafkajs' ? 'G_js' : 'G_plt');

export async function runGatewayScenario(ctx: BenchContext, target: GatewayTarget & { probe?: Probe }, size: number, client: KafkaClientName = DEFAULT_KAFKA_CLIENT): Promise<GatewayResult> {
  const requests: HttpRequestSpec[] = payloadPool(size, undefined, target.subscriptionId).map((p) => ({ path: target.path(p), body: p.body, headers: target.headers(p) }));
  const g = await runHttpScenario({
    id: gId(client),
    label: `hv-gateway end to end (KAFKA_CLIENT=${client})`,
    size,
    pid: target.pid,
    where: ctx.where,
    origin: target.origin,
    requests,
    kafka: { admin: ctx.admin, topic: target.topic, recordsPerRequest: target.recordsPerRequest ?? 1 },
    ...(target.probe ? { probe: target.probe } : {}),
    windows: ctx.windows,
    log: ctx.log,
  });
  let kAtG: SinkResult | null = null;
  if (g.open.length) {
    const job: SinkJob = { brokers: ctx.brokers, size, where: ctx.where, windows: ctx.windows, openOnly: true, openRates: g.open.map((o) => o.targetRate), client };
    kAtG = await runJsonScript<SinkResult>(ctx, 'bench/sink-bench.ts', job, 15 * 60_000);
  }
  return { client, g, kAtG };
}

// ---- ratios and targets ---------------------------------------------------------------------------

export interface Ceilings {
  /** H: closed-loop max of the fastify no-op, req/s */
  h: number;
  /** P: verify + parse (+ record) ops/s on one core */
  p: number;
  /** K_js: closed-loop max of the sink, msg/s */
  k: number;
  cpuUs: { h: number; p: number; k: number };
}

export interface Ratios {
  /** 1 / (1/H + 1/P + 1/K): every request pays all three on the one core */
  combinedBound: number;
  minCeiling: number;
  /** µs of CPU per request if the gateway were the three ceilings and nothing else */
  cpuUsBound: number;
  g?: number;
  gOverBound?: number;
  gOverMin?: number;
  targets?: { name: string; value: string; target: string; ok: boolean }[];
}

/** Ratios without G (H, P, K known) or with it. NaN ceilings propagate (a missing P gives NaN). */
export function ratios(c: Ceilings, g?: { max: number; cpuUs: number; open: readonly OpenPoint[]; rssMB: number; gateOk: boolean; peers?: Record<string, number | undefined> }, kAtG?: readonly OpenPoint[]): Ratios {
  const combinedBound = 1 / (1 / c.h + 1 / c.p + 1 / c.k);
  const minCeiling = Math.min(c.h, c.p, c.k);
  const cpuUsBound = c.cpuUs.h + c.cpuUs.p + c.cpuUs.k;
  const r: Ratios = { combinedBound, minCeiling, cpuUsBound };
  if (!g) return r;
  r.g = g.max;
  r.gOverBound = g.max / combinedBound;
  r.gOverMin = g.max / minCeiling;
  const half = g.open.find((o) => Math.abs(o.fraction - 0.5) < 1e-9);
  const kHalf = kAtG?.find((o) => half && o.targetRate === half.targetRate);
  const threeQ = g.open.find((o) => Math.abs(o.fraction - 0.75) < 1e-9);
  r.targets = [
    { name: 'G / combined bound', value: r.gOverBound.toFixed(2), target: '≥ 0.80', ok: r.gOverBound >= 0.8 },
    { name: 'CPU-µs/req G vs H+P+K', value: `${g.cpuUs.toFixed(1)} vs ${cpuUsBound.toFixed(1)}`, target: '≤ 1.2 ×', ok: g.cpuUs <= 1.2 * cpuUsBound },
    ...(half && kHalf
      ? [{ name: 'p99 at 50 % vs the sink alone (K) p99 at that rate', value: `${half.median.p99.toFixed(2)} vs ${kHalf.median.p99.toFixed(2)} ms`, target: '≤ +3 ms', ok: half.median.p99 <= kHalf.median.p99 + 3 }]
      : []),
    ...(half ? [{ name: 'p99.9 at 50 % vs 3 × p99', value: `${half.median['p99.9'].toFixed(2)} vs ${(3 * half.median.p99).toFixed(2)} ms`, target: '≤', ok: half.median['p99.9'] <= 3 * half.median.p99 }] : []),
    ...(threeQ ? [{ name: 'errors / p99 at 75 %', value: `${threeQ.median.non2xx + threeQ.median.errors} / ${threeQ.median.p99.toFixed(2)} ms`, target: '0 / < 25 ms', ok: threeQ.median.non2xx + threeQ.median.errors === 0 && threeQ.median.p99 < 25 }] : []),
    // issue 17: G / B ≥ 1.5 against the peer (kafka-hooks) in both of its forms
    ...Object.entries(g.peers ?? {})
      .filter((e): e is [string, number] => e[1] !== undefined)
      .map(([id, peer]) => ({ name: `G / ${id} (max rates)`, value: `${(g.max / peer).toFixed(2)} (${Math.round(g.max)} vs ${Math.round(peer)}/s)`, target: '≥ 1.5', ok: g.max / peer >= 1.5 })),
    { name: 'RSS under load', value: `${g.rssMB.toFixed(0)} MB`, target: '< 200 MB', ok: g.rssMB < 200 },
    { name: 'correctness gate (every run)', value: g.gateOk ? 'acked = appended' : 'MISMATCH', target: 'exact', ok: g.gateOk },
  ];
  return r;
}
