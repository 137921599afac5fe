// Scaling (issue 8 §2), run by bench/run.sh after the main table:
//  S1  1, 2 and 4 instances posting at once: the built gateway pinned to the SUT core, one
//      subscription registered in every simulated instance, closed-loop load spread over the
//      instances' callback paths (each body signed with that instance's key and subscription id);
//      total and per-instance rate, CPU-µs/req, gate (acked = appended).
//  S2  reconcile time for 25 subscriptions × 2, 8 and 32 simulated instances with 50 ms platform
//      latency: every subscription deleted behind the gateway's back, then one POST /v1/reconcile
//      (it returns when the pass over every instance is done) — next to its critical path:
//      per instance 1 list + ceil(25 / RECONCILE_CONCURRENCY) subscribe rounds, each one platform
//      round trip (50 ms + our own time); instances run in parallel.
// Prints a table and writes bench/results/scaling-<ts>.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { notificationKeyObject } from '../src/healthvault/index.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { KeyDeriver } from '../src/subscriptions/keys.ts';
import { nodeEnv } from './lib/context.ts';
import { KafkaAdmin, benchTopic } from './lib/kafka.ts';
import { closedLoop, type HttpRequestSpec } from './lib/load.ts';
import { cpuMicros, freePort, startChild, stopChild, waitHttpOk } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { payloadPool, signatureHeader } from './payloads.ts';
import { GLUCOSE } from '../support/fixtures.ts';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const sutCpus = env.BENCH_SUT_CPUS ?? '0';
const runDir = env.BENCH_RUN_DIR ?? join(ROOT, '.cache/bench-run/scaling');
const measureS = Number(env.BENCH_SCALING_S ?? 5);
const repeats = Number(env.BENCH_REPEATS ?? 3);
const fixture = (f: string) => readFileSync(join(ROOT, 'test/fixtures/healthvault', f), 'utf8');
const SECRET = 'bench-master-secret-not-for-production-0123456789';
const TOKEN = 'bench-admin-token-0123456789';
const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
const PUBLIC_BASE = 'https://gw.bench/hv';
const log = (m: string) => process.stderr.write(`[scaling] ${m}\n`);
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
mkdirSync(runDir, { recursive: true });
const admin = new KafkaAdmin(brokers);

async function stack(instances: number, extraEnv: Record<string, string> = {}) {
  const sim = await startSimulator(
    {
      host: '127.0.0.1',
      logLevel: 'silent',
      instances: Array.from({ length: instances }, (_, i) => ({ id: String(i + 1), name: `I${i + 1}` })),
      applications: [{ appId: APP_ID, certificates: [fixture('test-app-cert.TEST-ONLY.pem')], actionUrl: `${PUBLIC_BASE}/redirect.aspx` }],
    },
    { logger: pino({ level: 'silent' }) },
  );
  const port = await freePort();
  const adminPort = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // the admin API lives on its own listener (ADMIN_PORT), as in production
  const adminOrigin = `http://127.0.0.1:${adminPort}`;
  const topic = benchTopic('scaling');
  const child = startChild(process.execPath, [join(ROOT, 'dist/server.js')], {
    cpus: sutCpus,
    logFile: join(runDir, `scaling-gateway-${instances}.log`),
    env: nodeEnv({
      HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort), KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_REPLICATION: '1',
      KAFKA_STATE_TOPIC: benchTopic('scaling-state'), KAFKA_STATE_REPLICATION: '1', PUBLIC_BASE_URL: PUBLIC_BASE, HV_MASTER_SECRET: SECRET,
      ADMIN_TOKENS: TOKEN, HV_APP_ID: APP_ID, HV_APP_CERT: fixture('test-app-cert.TEST-ONLY.pem'), HV_APP_PRIVATE_KEY: fixture('test-app-key.TEST-ONLY.pem'),
      HV_DISCOVERY_URL: sim.instances[0]!.platformUrl, NOTIFICATION_RATE_LIMIT: '10000000', RECONCILE_INTERVAL_MS: '3600000', ...extraEnv,
    }),
  });
  await waitHttpOk(`${origin}/readyz`, 60_000, child);
  // the registry discovers every instance; wait until it lists them all
  for (const end = Date.now() + 30_000; ; ) {
    const r = (await (await fetch(`${adminOrigin}/v1/instances`, { headers: auth })).json()) as { instances: unknown[] };
    if (r.instances.length === instances) break;
    if (Date.now() > end) throw new Error(`gateway sees ${r.instances.length} of ${instances} instances`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const stop = async () => {
    await stopChild(child, 25_000);
    await sim.close();
  };
  return { sim, child, origin, adminOrigin, topic, stop };
}

async function waitInSync(adminOrigin: string, names: readonly string[], timeoutMs: number): Promise<Record<string, Record<string, string>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ids: Record<string, Record<string, string>> = {};
    let all = true;
    for (const name of names) {
      const v = (await (await fetch(`${adminOrigin}/v1/subscriptions/${name}`, { headers: auth })).json()) as { status: { instanceId: string; state: string; hvSubscriptionId: string }[] };
      ids[name] = {};
      for (const s of v.status) {
        if (s.state !== 'in-sync') all = false;
        ids[name]![s.instanceId] = s.hvSubscriptionId;
      }
    }
    if (all) return ids;
    if (Date.now() > end) throw new Error('subscriptions not in sync in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- S1 ------------------------------------------------------------------------------------------
interface S1Row { instances: number; rate: number; perInstance: number; cpuUs: number; gateOk: boolean; non2xx: number }

async function s1(n: number): Promise<S1Row> {
  const s = await stack(n);
  try {
    await fetch(`${s.adminOrigin}/v1/subscriptions/bench`, { method: 'PUT', headers: auth, body: JSON.stringify({ typeIds: [GLUCOSE] }) });
    const ids = (await waitInSync(s.adminOrigin, ['bench'], 60_000)).bench!;
    const deriver = new KeyDeriver(SECRET);
    const requests: HttpRequestSpec[] = [];
    for (let i = 1; i <= n; i++) {
      const id = String(i);
      const key = notificationKeyObject(deriver.key(id, 'bench', 1));
      for (const p of payloadPool(1024, 32, ids[id]!)) requests.push({ path: `/notifications/${id}/bench`, body: p.body, headers: { 'content-type': 'text/xml; charset=utf-8', authorization: signatureHeader(p.body, key, ids[id]!, 'v1') } });
    }
    // interleave the instances so every connection posts for all of them
    const mixed = requests.map((r, i) => ({ r, k: (i % 32) * n + Math.floor(i / 32) })).sort((a, b) => a.k - b.k).map((x) => x.r);
    await closedLoop({ url: s.origin, requests: mixed, connections: 128, durationS: 2 });
    // the warm-up is cut off by time: let the requests it abandoned finish before the gate's first read
    await new Promise((r) => setTimeout(r, 1500));
    const runs: S1Row[] = [];
    for (let k = 0; k < repeats; k++) {
      const before = await admin.appended(s.topic);
      const c0 = cpuMicros(s.child.pid!);
      const load = await closedLoop({ url: s.origin, requests: mixed, connections: 128, amount: Math.round(measureS * (runs.at(-1)?.rate ?? 5000)) });
      const cpu = cpuMicros(s.child.pid!) - c0;
      const appended = (await admin.appended(s.topic)) - before;
      runs.push({ instances: n, rate: load.rate, perInstance: load.rate / n, cpuUs: cpu / Math.max(1, load.ok2xx), gateOk: appended === load.ok2xx, non2xx: load.non2xx + load.errors });
      log(`S1 ${n} instance(s): ${Math.round(load.rate)} req/s, ${(cpu / Math.max(1, load.ok2xx)).toFixed(1)} CPU-µs/req, gate ${appended === load.ok2xx ? 'ok' : `MISMATCH ${appended} vs ${load.ok2xx}`}`);
    }
    const m = median(runs.map((r) => r.rate));
    const mid = runs.find((r) => r.rate === m) ?? runs[0]!;
    return { ...mid, gateOk: runs.every((r) => r.gateOk), non2xx: runs.reduce((a, r) => a + r.non2xx, 0) };
  } finally {
    await s.stop();
  }
}

// ---- S2 ------------------------------------------------------------------------------------------
interface S2Row { instances: number; subscriptions: number; latencyMs: number; concurrency: number; passMs: number; criticalPathMs: number; calls: number; converged: boolean; gatewayCpuMs: number }

async function s2(n: number, subs = 25, latencyMs = 50, concurrency = 2): Promise<S2Row> {
  const s = await stack(n, { RECONCILE_CONCURRENCY: String(concurrency), HV_POOL_CONNECTIONS: '4' });
  try {
    const names = Array.from({ length: subs }, (_, i) => `s${String(i).padStart(2, '0')}`);
    for (const name of names) await fetch(`${s.adminOrigin}/v1/subscriptions/${name}`, { method: 'PUT', headers: auth, body: JSON.stringify({ typeIds: [GLUCOSE] }) });
    await waitInSync(s.adminOrigin, names, 120_000);
    // the measured pass: every subscription gone behind our back, 50 ms per platform answer
    for (const inst of s.sim.instances) {
      const sim = s.sim.instance(inst.id);
      for (const sub of sim.listSubscriptions()) sim.deleteSubscription(sub.id);
      sim.setFaults({ slowMs: latencyMs });
    }
    const calls0 = callCount(s.sim);
    // the gateway's CPU over the pass: less disturbed by a busy box than the wall time
    const c0 = cpuMicros(s.child.pid!);
    const t0 = performance.now();
    const res = await fetch(`${s.adminOrigin}/v1/reconcile`, { method: 'POST', headers: { authorization: auth.authorization } });
    const body = (await res.json()) as { results?: { ok: boolean }[] };
    const passMs = performance.now() - t0;
    const gatewayCpuMs = (cpuMicros(s.child.pid!) - c0) / 1000;
    const converged = res.status === 200 && (body.results ?? []).every((r) => r.ok) && s.sim.instances.every((i) => s.sim.instance(i.id).listSubscriptions().length === subs);
    const criticalPathMs = (1 + Math.ceil(subs / concurrency)) * latencyMs;
    const row = { instances: n, subscriptions: subs, latencyMs, concurrency, passMs, criticalPathMs, calls: callCount(s.sim) - calls0, converged, gatewayCpuMs };
    log(`S2 ${n} instances × ${subs}: pass ${Math.round(passMs)} ms (critical path ${criticalPathMs} ms), gateway CPU ${Math.round(gatewayCpuMs)} ms, ${row.calls} platform calls, converged ${converged}`);
    return row;
  } finally {
    await s.stop();
  }
}

function callCount(sim: Simulator): number {
  let n = 0;
  for (const i of sim.instances) for (const byStatus of Object.values(sim.instance(i.id).stats().requests)) for (const c of Object.values(byStatus)) n += c;
  return n;
}

// ---- main ----------------------------------------------------------------------------------------
const s1Rows: S1Row[] = [];
const s2Rows: S2Row[] = [];
for (const n of (env.BENCH_SCALING_INSTANCES ?? '1,2,4').split(',').filter(Boolean).map(Number)) s1Rows.push(await s1(n));
for (const n of (env.BENCH_RECONCILE_INSTANCES ?? '2,8,32').split(',').filter(Boolean).map(Number)) s2Rows.push(await s2(n));
await admin.close();

const out: string[] = [];
out.push('', 'S1  instances posting at once (1 KB bodies, closed loop, 128 connections, median of runs)');
out.push('    instances  rate/s   per instance  CPU-µs/req  non-2xx  gate');
for (const r of s1Rows) out.push(`    ${String(r.instances).padStart(9)}  ${String(Math.round(r.rate)).padStart(6)}  ${String(Math.round(r.perInstance)).padStart(12)}  ${r.cpuUs.toFixed(1).padStart(10)}  ${String(r.non2xx).padStart(7)}  ${r.gateOk ? 'ok' : 'MISMATCH'}`);
out.push('', 'S2  reconcile pass: 25 subscriptions re-created in every instance, 50 ms per platform answer, RECONCILE_CONCURRENCY 2');
out.push('    instances  pass ms  critical path ms  ratio  gateway CPU ms  platform calls  converged');
for (const r of s2Rows) out.push(`    ${String(r.instances).padStart(9)}  ${String(Math.round(r.passMs)).padStart(7)}  ${String(r.criticalPathMs).padStart(16)}  ${(r.passMs / r.criticalPathMs).toFixed(2).padStart(5)}  ${String(Math.round(r.gatewayCpuMs)).padStart(14)}  ${String(r.calls).padStart(14)}  ${r.converged}`);
process.stdout.write(`${out.join('\n')}\n`);
const file = join(ROOT, 'bench/results', `scaling-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(file, JSON.stringify({ s1: s1Rows, s2: s2Rows, measureS, repeats }, null, 2));
process.stderr.write(`[scaling] wrote ${file}\n`);
if (!s1Rows.every((r) => r.gateOk) || !s2Rows.every((r) => r.converged)) process.exitCode = 1;
