// npm run bench:enrichment — enrichment throughput (things/s, and things per CPU-second of the
// gateway process = things/s per core) with 50 ms platform latency (simulator fault slowMs), per
// per-instance concurrency (HV_THINGS_CONCURRENCY: GetThings in flight per instance). Issue 15's bench.
//
// Set-up (bench/drill's stack: a private broker, the simulator in this process, the gateway as its
// own process from dist/server.js): a backlog of thing changes in both instances is turned into
// events by a first gateway (subscription glucose, enrich: true, things to a throwaway topic),
// which is then stopped. Each measured run starts a fresh gateway process with its own
// KAFKA_CLIENT_ID (so its own consumer group, reading the events from offset 0), its own things
// topic and the concurrency under test, and measures from its first thing record to its last:
// wall time → things/s, the process's utime+stime over the same window → things per CPU-second.
//
// Environment: BENCH_ENRICH_CHANGES (3000 per instance), BENCH_ENRICH_CONCURRENCY ("2,8,32,64"),
// BENCH_ENRICH_SLOW_MS (50). Writes bench/results/enrichment-<timestamp>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Cleanup, sleep, until } from './drill/cleanup.ts';
import { GatewayProcess, ROOT } from './drill/gateway-process.ts';
import { LoadStream } from './drill/load.ts';
import { DrillStack, GLUCOSE, INSTANCES } from './drill/stack.ts';
import { settle, allBatches } from './drill/verify.ts';
import { cpuMicros, freePort } from './lib/proc.ts';
import { ADMIN_TOKEN } from '../support/fixtures.ts';
import { uniqueTopic } from '../support/kafka.ts';

const env = process.env;
const changes = Number(env.BENCH_ENRICH_CHANGES ?? 3000);
const levels = (env.BENCH_ENRICH_CONCURRENCY ?? '2,8,32,64').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const slowMs = Number(env.BENCH_ENRICH_SLOW_MS ?? 50);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = join(ROOT, '.cache/bench-run', `enrichment-${stamp}`);
mkdirSync(runDir, { recursive: true });
const log = (m: string) => process.stderr.write(`[enrichment-bench] ${m}\n`);
const cleanup = new Cleanup(log);
process.on('SIGINT', () => void cleanup.run(20_000).finally(() => process.exit(130)));

interface Run {
  concurrency: number;
  things: number;
  wallMs: number;
  thingsPerSecond: number;
  cpuMs: number;
  /** things per CPU-second of the gateway process */
  thingsPerCoreSecond: number;
  cpuPct: number;
}

async function thingsWritten(g: GatewayProcess): Promise<number> {
  const res = await fetch(`${g.adminUrl}/v1/enrichment`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) }).catch(() => null);
  if (res === null || res.status !== 200) return 0;
  const j = (await res.json()) as { instances: { thingsWritten: Record<string, number> }[] };
  return j.instances.reduce((n, i) => n + Object.values(i.thingsWritten).reduce((a, b) => a + b, 0), 0);
}

const runs: Run[] = [];
try {
  const stack = await DrillStack.start({ name: 'enrich-bench', cleanup, log, runDir, gatewayEnv: { KAFKA_CLIENT_ID: 'bench-backlog', KAFKA_THINGS_TOPIC: uniqueTopic('bench-things-backlog'), LOG_LEVEL: 'warn' } });
  await stack.subscribe('glucose', [GLUCOSE]);
  const put = await stack.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true });
  if (put.status !== 200) throw new Error(`enrich: true → HTTP ${put.status}`);
  const load = new LoadStream(stack.sim, { ratePerInstance: 500, instances: INSTANCES, typeIds: [GLUCOSE] });
  load.start();
  await until('backlog made', () => load.changes, (n) => n >= changes * INSTANCES.length, 120_000, 100);
  load.stop();
  await settle(stack.sim, INSTANCES, 120_000);
  const pairs = allBatches(stack.sim, INSTANCES).filter((b) => b.state === 'delivered').reduce((n, b) => n + b.notifications.reduce((m, x) => m + x.thingIds.length, 0), 0);
  log(`backlog: ${load.changes} changes → ${pairs} (event, thing) pairs in the events topic`);
  await stack.gateway.stop();
  for (const id of INSTANCES) stack.sim.instance(id).setFaults({ slowMs });
  log(`platform latency ${slowMs} ms in both instances`);

  for (const c of levels) {
    const g = new GatewayProcess({
      port: await freePort(), adminPort: await freePort(), cleanup, logPrefix: join(runDir, `gateway-c${c}`),
      env: { ...stack.gateway.env, KAFKA_CLIENT_ID: `bench-c${c}-${stamp.slice(-9, -1)}`, KAFKA_THINGS_TOPIC: uniqueTopic(`bench-things-c${c}`), HV_THINGS_CONCURRENCY: String(c), ENRICH_PARTITIONS_CONCURRENCY: '6', LOG_LEVEL: 'warn' },
    });
    await g.start();
    const first = await until(`c=${c}: first thing written`, () => thingsWritten(g), (n) => n > 0, 60_000, 20);
    const t0 = performance.now();
    const cpu0 = cpuMicros(g.pid!);
    const last = await until(`c=${c}: every thing written`, () => thingsWritten(g), (n) => n >= pairs, 600_000, 50);
    const wallMs = performance.now() - t0;
    const cpuMs = (cpuMicros(g.pid!) - cpu0) / 1000;
    const things = last - first;
    const r: Run = { concurrency: c, things, wallMs: Math.round(wallMs), thingsPerSecond: Math.round((things / wallMs) * 1000), cpuMs: Math.round(cpuMs), thingsPerCoreSecond: Math.round((things / cpuMs) * 1000), cpuPct: Math.round((cpuMs / wallMs) * 100) };
    runs.push(r);
    log(`c=${c}: ${r.things} things in ${(wallMs / 1000).toFixed(1)} s = ${r.thingsPerSecond} things/s at ${r.cpuPct}% of a core → ${r.thingsPerCoreSecond} things per CPU-second`);
    await g.stop();
    await sleep(500);
  }
} finally {
  await cleanup.run(30_000);
}

const best = runs.reduce<Run | undefined>((b, r) => (b === undefined || r.thingsPerSecond > b.thingsPerSecond ? r : b), undefined);
const table = [
  `| HV_THINGS_CONCURRENCY (per instance) | things | wall | things/s | gateway CPU | things per CPU-second (= things/s per core) |`,
  '|---|---|---|---|---|---|',
  ...runs.map((r) => `| ${r.concurrency} | ${r.things} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.thingsPerSecond} | ${r.cpuPct}% | ${r.thingsPerCoreSecond} |`),
].join('\n');
process.stdout.write(`\nEnrichment with ${slowMs} ms platform latency, 2 instances (${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}):\n${table}\n`);
if (best) process.stdout.write(`highest throughput: ${best.thingsPerSecond} things/s at HV_THINGS_CONCURRENCY=${best.concurrency}\n`);
const out = join(ROOT, 'bench/results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `enrichment-${stamp}.json`), JSON.stringify({ kind: 'enrichment', at: new Date().toISOString(), slowMs, levels, loadavg: loadavg(), runs }, null, 2));
