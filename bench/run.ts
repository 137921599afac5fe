// The bench orchestrator (started by bench/run.sh, pinned to the load core, with a broker of its
// own already running). Runs every scenario with the system under test pinned to the SUT core,
// prints one table and writes bench/results/<timestamp>.json. See bench/README.md.
//
// Environment (run.sh sets the first ones):
//   KAFKA_BROKERS                the bench's broker
//   BENCH_RUN_DIR                folder for this run's logs and generated configs
//   BENCH_BRIDGE_LIBS / _ERROR   the fetched bridge jars, or why there are none
//   BENCH_SCENARIOS              H,P,K,B,G (default all)       BENCH_SIZES   1024,2048
//   BENCH_WARMUP_S 3  BENCH_SWEEP_S 2  BENCH_MEASURE_S 8  BENCH_OPEN_S 4  BENCH_REPEATS 3
//   BENCH_SWEEP 16,64,256  BENCH_OPEN_FRACTIONS 0.25,0.5,0.75  BENCH_OPEN_CONNECTIONS 64
//   BENCH_SUT_CPUS 0             BENCH_K_RECORD contract|raw
//   BENCH_NOISE_PCT 20           re-run a measurement once when other processes took more of the SUT core
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { bridgeUnavailable, runBridgeScenario, startBridge, type Bridge } from './bridge.ts';
import { GATEWAY_NOT_WIRED, gId, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS, ratios, runGatewayScenario, startGateway, type GatewayResult, type Ratios } from './gateway.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../src/kafka/api.ts';
import { kId } from './lib/kafka.ts';
import { HOOKS_PRODUCER, hooksVersions, runHooksScenarios } from './kafka-hooks.ts';
import { runJsonScript, startProbedNodeOnSut, type BenchContext } from './lib/context.ts';
import { runHttpScenario } from './lib/http-scenario.ts';
import { kb, n0, n1, n2, processingRows, scenarioRows, sinkRows, summaryRow, table, type Row } from './lib/table.ts';
import { KafkaAdmin } from './lib/kafka.ts';
import type { HttpRequestSpec } from './lib/load.ts';
import { firstCpu, freePort, stopChild, waitHttpOk, type Placement } from './lib/proc.ts';
import type { ScenarioResult, Windows } from './lib/results.ts';
import { notificationHeaders, payloadPool } from './payloads.ts';
import type { ProcessingJob, ProcessingResult } from './processing.ts';
import type { SinkJob, SinkResult } from './sink-bench.ts';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const env = process.env;
const num = (k: string, d: number) => (env[k] ? Number(env[k]) : d);
const list = (k: string, d: string) => (env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);

const windows: Windows = {
  warmupS: num('BENCH_WARMUP_S', 3),
  sweepS: num('BENCH_SWEEP_S', 2),
  measureS: num('BENCH_MEASURE_S', 8),
  openS: num('BENCH_OPEN_S', 4),
  repeats: num('BENCH_REPEATS', 3),
  sweep: list('BENCH_SWEEP', '16,64,256').map(Number),
  openFractions: list('BENCH_OPEN_FRACTIONS', '0.25,0.5,0.75').map(Number),
  openConnections: num('BENCH_OPEN_CONNECTIONS', 64),
  noisePct: num('BENCH_NOISE_PCT', 20),
};
const clientList = (k: string): KafkaClientName[] => {
  // the default client first: G and the bound are reported against it
  const v = list(k, [DEFAULT_KAFKA_CLIENT, ...KAFKA_CLIENTS.filter((c) => c !== DEFAULT_KAFKA_CLIENT)].join(','));
  const bad = v.filter((c) => !(KAFKA_CLIENTS as readonly string[]).includes(c));
  if (bad.length) throw new Error(`${k}: unknown Kafka client(s) ${bad.join(', ')} (one of ${KAFKA_CLIENTS.join(', ')})`);
  return v as KafkaClientName[];
};
/** K runs with each of these clients, G too (issue 17: both clients in one run) */
const kClients = clientList('BENCH_K_CLIENTS');
const gClients = clientList('BENCH_G_CLIENTS');
const scenarios = new Set(list('BENCH_SCENARIOS', 'H,P,K,B,G').map((s) => s.toUpperCase()));
const sizes = list('BENCH_SIZES', '1024,2048').map(Number);
const brokers = list('KAFKA_BROKERS', '127.0.0.1:9092');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = env.BENCH_RUN_DIR ?? join(ROOT, '.cache/bench-run', stamp);
mkdirSync(runDir, { recursive: true });
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const log = (m: string) => process.stderr.write(`[${elapsed().padStart(4)}] ${m}\n`);

const admin = new KafkaAdmin(brokers);
const sutCpus = env.BENCH_SUT_CPUS ?? '0';
const brokerPid = Number(env.BENCH_BROKER_PID ?? 0);
const where: Placement = { sutCore: firstCpu(sutCpus), loadCore: firstCpu(env.BENCH_LOAD_CPUS ?? '1'), loadPids: [process.pid, ...(brokerPid > 0 ? [brokerPid] : [])] };
const ctx: BenchContext = { root: ROOT, brokers, admin, windows, sutCpus, where, runDir, log };

interface Skipped {
  id: string;
  label: string;
  status: 'skipped' | 'failed';
  reason: string;
}
const results: { H: ScenarioResult[]; P: ProcessingResult[]; K: SinkResult[]; B: ScenarioResult[]; G: GatewayResult[]; skipped: Skipped[] } = { H: [], P: [], K: [], B: [], G: [], skipped: [] };
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---- H: HTTP ceiling --------------------------------------------------------------------------
async function scenarioH(size: number): Promise<void> {
  const port = await freePort();
  const { child, probe } = await startProbedNodeOnSut(ctx, 'bench/servers/noop.ts', [String(port)], { logName: `noop-${size}.log` });
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/healthz`, 20_000, child);
    const requests: HttpRequestSpec[] = payloadPool(size).map((p) => ({ path: '/notifications/1/bench', body: p.body, headers: notificationHeaders(p.body) }));
    results.H.push(await runHttpScenario({ id: 'H', label: 'fastify no-op (raw-buffer parser)', size, pid: child.pid!, where: ctx.where, origin: `http://127.0.0.1:${port}`, requests, probe, windows, log }));
  } finally {
    await stopChild(child);
  }
}

// ---- P: processing ceiling --------------------------------------------------------------------
async function scenarioP(size: number): Promise<void> {
  const job: ProcessingJob = { size, warmupS: Math.min(2, windows.warmupS), runS: Math.min(3, windows.measureS), repeats: windows.repeats };
  const r = await runJsonScript<ProcessingResult>(ctx, 'bench/processing.ts', job, 5 * 60_000);
  results.P.push(r);
  if (r.status !== 'ok') log(`P ${size} B: FAILED ${r.error}`);
}

// ---- K_js: Kafka ceiling with the gateway's sink -------------------------------------------------
async function scenarioK(size: number, client: KafkaClientName): Promise<void> {
  const job: SinkJob = { brokers, size, where: ctx.where, windows, record: env.BENCH_K_RECORD === 'raw' ? 'raw' : 'contract', client };
  results.K.push(await runJsonScript<SinkResult>(ctx, 'bench/sink-bench.ts', job, 20 * 60_000));
}

let hooksWebhook: Record<string, { ok: number; held: number }> = {};
// ---- B: the peer, @platformatic/kafka-hooks in two forms (bench/kafka-hooks.ts) ----------------
async function scenarioB(): Promise<void> {
  try {
    const run = await runHooksScenarios(ctx, sizes);
    results.B.push(...run.results);
    hooksWebhook = run.webhook;
  } catch (err) {
    results.skipped.push({ id: 'B', label: 'kafka-hooks (peer)', status: 'failed', reason: errMsg(err) });
    log(`B: FAILED ${errMsg(err)}`);
  }
  // the Strimzi HTTP Bridge too, where Maven can fetch it (BENCH_STRIMZI=1; not served here)
  if (env.BENCH_STRIMZI === '1') await scenarioStrimzi();
}

async function scenarioStrimzi(): Promise<void> {
  const why = bridgeUnavailable();
  if (why) {
    results.skipped.push({ id: 'B_strimzi', label: 'Strimzi HTTP Bridge (peer)', status: 'skipped', reason: why });
    log(`B_strimzi: skipped: ${why}`);
    return;
  }
  let bridge: Bridge | undefined;
  try {
    log('B_strimzi: starting the bridge');
    bridge = await startBridge(ctx);
    for (const size of sizes) results.B.push(await runBridgeScenario(ctx, bridge, size));
  } catch (err) {
    results.skipped.push({ id: 'B_strimzi', label: 'Strimzi HTTP Bridge (peer)', status: 'failed', reason: errMsg(err) });
    log(`B_strimzi: FAILED ${errMsg(err)}`);
  } finally {
    if (bridge) await stopChild(bridge.child, 10_000);
  }
}

// ---- G: the gateway (extension point, bench/gateway.ts) --------------------------------------------
async function scenarioG(client: KafkaClientName): Promise<void> {
  let handle;
  log(`${gId(client)}: starting the gateway (KAFKA_CLIENT=${client})`);
  try {
    handle = await startGateway(ctx, client);
  } catch (err) {
    results.skipped.push({ id: gId(client), label: 'hv-gateway end to end', status: 'failed', reason: errMsg(err) });
    return;
  }
  if (!handle) {
    results.skipped.push({ id: gId(client), label: 'hv-gateway end to end', status: 'skipped', reason: GATEWAY_NOT_WIRED });
    return;
  }
  try {
    for (const size of sizes) results.G.push(await runGatewayScenario(ctx, handle, size, client));
  } finally {
    await handle.stop();
  }
}

// ---- report (row and number formats: lib/table.ts) -------------------------------------------------
function boundsFor(size: number, client: KafkaClientName): Ratios & { size: number; client: KafkaClientName; h: number; p: number; k: number; b?: number; bStall?: number } {
  const H = results.H.find((r) => r.size === size)?.max?.median;
  const P = results.P.find((r) => r.size === size)?.median;
  // the bound of a G run uses the Kafka ceiling of the client it ran with
  const K = results.K.find((r) => r.size === size && (r.client ?? 'kafkajs') === client)?.max?.median;
  const B = results.B.find((r) => r.id === 'B' && r.size === size)?.max?.median;
  const bStall = results.B.find((r) => r.id === 'B_stall' && r.size === size)?.max?.median;
  const G = results.G.find((r) => r.g.size === size && r.client === client);
  const c = {
    h: H?.rate ?? NaN,
    p: P?.opsPerS ?? NaN,
    k: K?.rate ?? NaN,
    cpuUs: { h: H?.cpuUsPerReq ?? NaN, p: P?.cpuUsPerOp ?? NaN, k: K?.cpuUsPerReq ?? NaN },
  };
  const gm = G?.g.max?.median;
  const r = gm ? ratios(c, { max: gm.rate, cpuUs: gm.cpuUsPerReq, open: G!.g.open, rssMB: Math.max(gm.rssMaxMB, ...G!.g.open.map((o) => o.median.rssMaxMB)), gateOk: [gm, ...G!.g.open.map((o) => o.median)].every((s) => s.gateOk !== false), peers: { B: B?.rate, B_stall: bStall?.rate } }, G!.kAtG?.open) : ratios(c);
  return { ...r, size, client, h: c.h, p: c.p, k: c.k, ...(B ? { b: B.rate } : {}), ...(bStall ? { bStall: bStall.rate } : {}) };
}

/** CPU-µs/req of G with each client at one size (issue 17: the other client is the default only if ≥ 20 % cheaper) */
function clientComparison(size: number): string | null {
  const cpu = (c: KafkaClientName) => results.G.find((r) => r.g.size === size && r.client === c)?.g.max?.median.cpuUsPerReq;
  const [a, b] = gClients;
  const ca = a ? cpu(a) : undefined;
  const cb = b ? cpu(b) : undefined;
  if (!a || !b || ca === undefined || cb === undefined) return null;
  return `    G CPU-µs/req by Kafka client at ${kb(size)}: ${a} ${n1(ca)}, ${b} ${n1(cb)} → ${b} ${cb <= ca ? `${n0((1 - cb / ca) * 100)} % cheaper` : `${n0((cb / ca - 1) * 100)} % dearer`} (issue 17 makes it the default only at ≥ 20 % cheaper and 0 acknowledged missing in the drills)`;
}

async function main(): Promise<void> {
  log(`bench: brokers ${brokers.join(',')}, SUT core ${ctx.sutCpus}, run dir ${runDir}`);
  log(`windows: warm-up ${windows.warmupS} s, sweep ${windows.sweepS} s/point over ${windows.sweep.join('/')}, closed ${windows.repeats} × ${windows.measureS} s, open ${windows.repeats} × ${windows.openS} s at ${windows.openFractions.map((f) => `${f * 100}%`).join('/')}`);
  const loadBefore = loadavg();
  for (const size of sizes) {
    if (scenarios.has('H')) await scenarioH(size).catch((e) => results.skipped.push({ id: 'H', label: `H ${size}`, status: 'failed', reason: errMsg(e) }));
  }
  for (const size of sizes) {
    if (scenarios.has('P')) await scenarioP(size).catch((e) => results.skipped.push({ id: 'P', label: `P ${size}`, status: 'failed', reason: errMsg(e) }));
  }
  for (const size of sizes) {
    for (const client of kClients) if (scenarios.has('K')) await scenarioK(size, client).catch((e) => results.skipped.push({ id: kId(client), label: `${kId(client)} ${size}`, status: 'failed', reason: errMsg(e) }));
  }
  if (scenarios.has('B')) await scenarioB();
  for (const client of gClients) if (scenarios.has('G')) await scenarioG(client);

  const rows: Row[] = [];
  for (const r of results.H) rows.push(...scenarioRows(r, windows.openConnections));
  for (const r of results.P) rows.push(...processingRows(r));
  for (const r of results.K) rows.push(...sinkRows(r));
  for (const r of results.B) rows.push(...scenarioRows(r, windows.openConnections));
  if (results.B.some((r) => r.id.startsWith('B') && r.id !== 'B_strimzi')) rows.push(['B*', '', `${hooksVersions(ROOT)}, producer as shipped (not configurable): ${HOOKS_PRODUCER}. Webhook consumer: ${Object.entries(hooksWebhook).map(([id, w]) => `${id} delivered ${w.ok}, held ${w.held}`).join('; ')}`]);
  for (const r of results.G) {
    rows.push(...scenarioRows(r.g, windows.openConnections));
    if (r.kAtG) for (const o of r.kAtG.open) rows.push(summaryRow(`${kId(r.client)}@${gId(r.client)}`, r.g.size, `open ${n0(o.targetRate)}/s`, '—', o.median));
  }
  for (const s of results.skipped) rows.push([s.id, '', `${s.status}: ${s.reason}`]);
  const bounds = sizes.flatMap((size) => gClients.filter((c, i) => i === 0 || results.G.some((r) => r.client === c && r.g.size === size)).map((c) => boundsFor(size, c)));

  const wallS = (performance.now() - started) / 1000;
  const lines: string[] = [];
  lines.push('');
  lines.push(`hv-gateway bench ${stamp}  node ${process.version}  ${cpus()[0]?.model ?? ''} ×${cpus().length}  load avg before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  lines.push(`SUT on core ${ctx.sutCpus}; load generator + Kafka broker (${brokers.join(',')}) on core 1.`);
  lines.push(
    `Windows: warm-up ${windows.warmupS} s; sweep ${windows.sweep.join('/')} × ${windows.sweepS} s (best kept); closed max ${windows.repeats} × ${windows.measureS} s; ` +
      `open ${windows.repeats} × ${windows.openS} s at ${windows.openFractions.map((f) => `${f * 100}%`).join('/')} of the max. Every number is the median of ${windows.repeats} runs.`,
  );
  lines.push('');
  lines.push(table(rows));
  lines.push('');
  for (const b of bounds) {
    lines.push(
      `${kb(b.size)}${b.client === gClients[0] ? '' : ` (${gId(b.client)})`}: H ${n0(b.h)} · P ${n0(b.p)} · ${kId(b.client)} ${n0(b.k)}  →  combined bound 1/(1/H+1/P+1/K) = ${n0(b.combinedBound)} req/s, min = ${n0(b.minCeiling)}, ` +
        `CPU bound H+P+K = ${n1(b.cpuUsBound)} µs/req (= ${n0(1e6 / b.cpuUsBound)} req/s on a whole core)` +
        (b.b !== undefined ? `; peer B max ${n0(b.b)}` : '') +
        (b.bStall !== undefined ? `, B_stall max ${n0(b.bStall)}` : '') +
        (b.g !== undefined ? `;  ${gId(b.client)} ${n0(b.g)} = ${n2(b.gOverBound)} × bound, ${n2(b.gOverMin)} × min` : ';  G: not measured') +
        (b.g !== undefined && b.b !== undefined ? `, G/B = ${n2(b.g / b.b)}` : '') +
        (b.g !== undefined && b.bStall !== undefined ? `, G/B_stall = ${n2(b.g / b.bStall)}` : ''),
    );
    for (const t of b.targets ?? []) lines.push(`    ${t.ok ? 'ok  ' : 'MISS'} ${t.name}: ${t.value} (target ${t.target})`);
    const cmp = b.client === gClients.at(-1) && gClients.length > 1 ? clientComparison(b.size) : null;
    if (cmp) lines.push(cmp);
  }
  lines.push('');
  lines.push(
    'rate/s: 2xx (or acked publishes) per second; "!" = an open-loop rate more than 5 % below its target (overloaded or disturbed). CPU-µs/req and CPU% : utime+stime of the SUT process (/proc/<pid>/stat). RSS: highest VmRSS seen in the run. ' +
      'Latency: closed max = autocannon (ms, coarse) or per-publish for K_js; open = from each request\'s intended send time (no coordinated omission). ' +
      'oth0%/oth1%: busy % of the SUT core not used by the SUT / of the load core not used by the broker and the load generator (foreign load: should be ~0). gen%: load generator CPU (≥ 90 means the generator, not the SUT, may be the limit). ' +
      'in99: p99 of request parsed → answered inside the SUT (diagnostics_channel http.server.*; p99 minus in99 is time spent before the SUT read the request or in the generator); kfk99: p99 of one Kafka Produce round trip inside the SUT (@platformatic/kafka\'s tracing channel; — under kafkajs); wait%: open-loop requests that found all generator connections busy and waited for one (the SUT fell behind for at least connections ÷ rate). ' +
      'eld99/eldmax: event-loop delay of the SUT (monitorEventLoopDelay, ms; median p99 / worst max over the runs); gcmax/gc%: longest GC pause (ms, worst run) and GC time as % of the run (median) — in-process probe, Node SUTs only. bgcmax: the broker\'s longest GC pause during any of the runs (ms, from its GC log) — no produce is answered while it lasts. offmain%: share of the SUT CPU spent outside its main thread (V8 GC helpers, background compiler, thread pool; /proc/<pid>/task) — on one core the event loop waits for it. ' +
      'B*: the peer @platformatic/kafka-hooks (B as shipped, B_stall with its webhook consumer stalled). ' +
      'fail: non-2xx + errors over all runs. gate: acked == offset delta, runs ok/run. P: ops per CPU-second (a whole core) and CPU-µs/op of verify+parse+record.',
  );
  lines.push(`Total ${wallS.toFixed(0)} s.`);
  const text = lines.join('\n');
  process.stdout.write(text + '\n');

  const outDir = join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${stamp}.json`);
  const k = results.K[0];
  writeFileSync(
    out,
    JSON.stringify(
      {
        stamp,
        node: process.version,
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        loadAvgBefore: loadBefore,
        brokers,
        sutCpus: ctx.sutCpus,
        windows,
        sizes,
        wallSeconds: wallS,
        // what G ran with, so a result file says which variant it measured
        gateway: { nodeFlags: PRODUCTION_NODE_FLAGS, env: PRODUCTION_ENV, kafkaLingerMs: process.env.KAFKA_LINGER_MS ?? '(default)', kafkaSendIntervalMs: process.env.KAFKA_SEND_INTERVAL_MS ?? '(default)' },
        kRecord: k ? { kind: k.record, bytes: results.K.map((r) => ({ size: r.size, recordBytes: r.recordBytes })) } : null,
        results,
        hooksWebhook,
        bounds,
        table: text,
      },
      null,
      1,
    ),
  );
  log(`wrote ${out}`);
}

try {
  await main();
} finally {
  await admin.close();
}
process.exit(0);
