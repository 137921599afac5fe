// Developer tool: a CPU profile of the built gateway under closed-loop load (not part of npm run
// bench). node bench/profile-gateway.ts [seconds] → prints the top self-time functions and leaves
// the .cpuprofile in .cache/profile/ (open it in Chrome DevTools).
// With the bench's in-process probe (bench/lib/loop-probe.ts) it also prints the event-loop delay
// and GC pauses of the window and, with PROFILE_HEAP=1, the allocation sites of everything the
// window allocated (garbage included) in bytes per request — where GC pressure comes from; with
// PROFILE_HEAP=live only what is still alive at the end of the window (what in-flight work holds),
// PROFILE_HEAP=old what outlived the young generation (what fills the old one between major GCs).
// PROFILE_RATE=<req/s> offers a fixed rate instead of the closed loop (the bench's open loop,
// lib/open-loop.ts: latency from each request's intended send time), and prints where a request's
// time went inside the gateway (the probe's http and Kafka produce spreads);
// PROFILE_SIZE=2048 the 2 KB bodies; PROFILE_CPU=0 no CPU profile (for memory comparisons);
// PROFILE_NODE_FLAGS extra node flags; PROFILE_SUT_CPUS a taskset CPU list for the gateway;
// glibc's MALLOC_* variables, KAFKA_LINGER_MS, KAFKA_SEND_INTERVAL_MS and KAFKA_CLIENT are passed through.
// With PROFILE_RATE: PROFILE_REPEAT=<n> runs the bench's shape instead (n runs, each on fresh
// connections, 0.5 s of warm-up, then `seconds` measured); PROFILE_TIMELINE=1 prints, per run, the
// 100 ms bins that hold most of the tail with what happened in them (lib/timeline.ts) — the
// broker's GC pauses too when KAFKA_GC_LOG names the log of a broker started with it (scripts/kafka.sh).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { notificationKeyObject } from '../src/healthvault/index.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import { KeyDeriver } from '../src/subscriptions/keys.ts';
import { ask, probeClient, probeNodeFlags } from './lib/loop-stats.ts';
import { rawOpenLoop } from './lib/open-loop.ts';
import { worstBins, type LatencyTimeline, type ProbeTimeline } from './lib/timeline.ts';
import { freePort, threadCpuMicros, waitHttpOk } from './lib/proc.ts';
import { payloadPool, signatureHeader } from './payloads.ts';
import { GLUCOSE } from '../support/fixtures.ts';

const seconds = Number(process.argv[2] ?? 8);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const root = new URL('..', import.meta.url).pathname;
const dir = join(root, '.cache/profile');
mkdirSync(dir, { recursive: true });
const fixture = (f: string) => readFileSync(join(root, 'test/fixtures/healthvault', f), 'utf8');
const SECRET = 'profile-master-secret-not-for-production-0123456789';
const TOKEN = 'profile-admin-token-0123456789';
const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
const sim = await startSimulator({ host: '127.0.0.1', logLevel: 'silent', applications: [{ appId: APP_ID, certificates: [fixture('test-app-cert.TEST-ONLY.pem')], actionUrl: 'https://gw.prof/hv/redirect.aspx' }] }, { logger: pino({ level: 'silent' }) });
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const extraFlags = (process.env.PROFILE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const probePort = await freePort();
const heapFile = join(dir, `gateway-${Date.now()}.heapprofile`);
const timelineFile = process.env.PROFILE_TIMELINE === '1' ? join(dir, `timeline-${Date.now()}.json`) : undefined;
const cpuProf = process.env.PROFILE_CPU === '0' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
// PROFILE_SUT_CPUS=0: the gateway pinned like the bench pins it (run this script with taskset -c 1)
const pinned = process.env.PROFILE_SUT_CPUS ? ['-c', process.env.PROFILE_SUT_CPUS, process.execPath] : [];
const child = spawn(pinned.length ? 'taskset' : process.execPath, [...pinned, ...cpuProf, '--disable-warning=TimeoutNegativeWarning', ...extraFlags, ...probeNodeFlags(root), join(root, 'dist/server.js')], {
  env: { BENCH_PROBE_PORT: String(probePort), ...(timelineFile ? { BENCH_PROBE_TIMELINE: timelineFile } : {}), ...(['1', 'live', 'old'].includes(process.env.PROFILE_HEAP ?? '') ? { BENCH_PROBE_HEAP_PROFILE: heapFile, ...(process.env.PROFILE_HEAP === 'live' ? { BENCH_PROBE_HEAP_LIVE: '1' } : process.env.PROFILE_HEAP === 'old' ? { BENCH_PROBE_HEAP_LIVE: 'old' } : {}) } : {}), ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && (k.startsWith('MALLOC_') || ['KAFKA_LINGER_MS', 'KAFKA_SEND_INTERVAL_MS', 'KAFKA_CLIENT'].includes(k)))), PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: 'shared', KAFKA_BROKERS: brokers, KAFKA_TOPIC: `prof-${Date.now()}`, KAFKA_STATE_TOPIC: `prof-state-${Date.now()}`, KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1', PUBLIC_BASE_URL: 'https://gw.prof/hv', HV_MASTER_SECRET: SECRET, ADMIN_TOKENS: TOKEN, HV_APP_ID: APP_ID, HV_APP_CERT: fixture('test-app-cert.TEST-ONLY.pem'), HV_APP_PRIVATE_KEY: fixture('test-app-key.TEST-ONLY.pem'), HV_DISCOVERY_URL: sim.instances[0]!.platformUrl, NOTIFICATION_RATE_LIMIT: '10000000' },
  stdio: ['ignore', process.env.PROFILE_STDOUT ? 'inherit' : 'ignore', 'inherit'],
});
await waitHttpOk(`${origin}/readyz`, 60_000, child);
const h = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
await fetch(`${origin}/v1/subscriptions/p`, { method: 'PUT', headers: h, body: JSON.stringify({ typeIds: [GLUCOSE] }) });
let hvId: string | null = null;
while (!hvId) {
  const v = (await (await fetch(`${origin}/v1/subscriptions/p`, { headers: h })).json()) as { status: { instanceId: string; state: string; hvSubscriptionId: string }[] };
  hvId = v.status.find((s) => s.instanceId === '1' && s.state === 'in-sync')?.hvSubscriptionId ?? null;
  await new Promise((r) => setTimeout(r, 200));
}
const key = notificationKeyObject(new KeyDeriver(SECRET).key('1', 'p', 1));
const requests = payloadPool(Number(process.env.PROFILE_SIZE ?? 1024), 64, hvId).map((p) => ({ method: 'POST' as const, path: '/notifications/1/p', body: p.body, headers: { 'content-type': 'text/xml', authorization: signatureHeader(p.body, key, hvId!, 'v1') } }));
let maxRss = 0;
const rssTimer = setInterval(() => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  if (m) maxRss = Math.max(maxRss, Number(m[1]) / 1024);
}, 200);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 64);
// warm-up (JIT, connections, young generation sized), then the measured window
await autocannon({ url: origin, connections, duration: 2, requests });
const probe = probeClient(probePort);
const openRate = Number(process.env.PROFILE_RATE ?? 0);
if (openRate > 0) await rawOpenLoop({ host: '127.0.0.1', port, requests, rate: openRate, count: openRate * 2, connections });
await probe.reset();
const threads0 = threadCpuMicros(child.pid!);
let answered: number;
const repeat = Number(process.env.PROFILE_REPEAT ?? 0);
let timelines: LatencyTimeline[] = [];
if (openRate > 0 && repeat > 0) {
  // the bench's shape: each run its own connections, 0.5 s of warm-up at the rate, then `seconds` measured
  answered = 0;
  const runs = [];
  for (let k = 0; k < repeat; k++) {
    await new Promise((r) => setTimeout(r, 300));
    const r = await rawOpenLoop({ host: '127.0.0.1', port, requests, rate: openRate, count: Math.round(openRate * seconds), warmupCount: Math.round(openRate * 0.5), connections, timeline: !!timelineFile });
    answered += r.ok2xx;
    runs.push(r);
    process.stdout.write(`run ${k + 1}: p50 ${r.latency.p50.toFixed(2)} p99 ${r.latency.p99.toFixed(2)} p99.9 ${r.latency['p99.9'].toFixed(2)} max ${r.latency.max.toFixed(2)} ms, ${r.queued} waited\n`);
  }
  timelines = runs.map((r) => r.timeline!);
} else if (openRate > 0) {
  const r = await rawOpenLoop({ host: '127.0.0.1', port, requests, rate: openRate, count: Math.round(openRate * seconds), connections, timeline: !!timelineFile });
  timelines = [r.timeline!];
  answered = r.ok2xx;
  const f = (n: number) => n.toFixed(2);
  process.stdout.write(`open loop ${openRate}/s: ${Math.round(r.rate)} req/s, non-2xx ${r.non2xx}, errors ${r.errors}, max RSS ${maxRss.toFixed(0)} MB, latency p50 ${f(r.latency.p50)} p99 ${f(r.latency.p99)} p99.9 ${f(r.latency['p99.9'])} max ${f(r.latency.max)} ms; send lag p50 ${f(r.lag!.p50)} p99 ${f(r.lag!.p99)} ms, ${r.queued} waited for a connection\n`);
} else {
  const result = await autocannon({ url: origin, connections, duration: seconds, requests });
  answered = result.requests.total;
  process.stdout.write(`${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}, max RSS ${maxRss.toFixed(0)} MB, latency p50 ${result.latency.p50} p99 ${result.latency.p99} ms\n`);
}
const loop = await probe.read();
if (timelineFile && timelines.length) {
  const probed = JSON.parse(readFileSync(timelineFile, 'utf8')) as ProbeTimeline;
  timelines.forEach((tl, k) => process.stdout.write(`${timelines.length > 1 ? `run ${k + 1}, ` : ''}${worstBins(tl, probed, process.env.KAFKA_GC_LOG).join('\n')}\n`));
}
const threads1 = threadCpuMicros(child.pid!);
clearInterval(rssTimer);
const spread = (n: string, s: typeof loop.http) => (s && s.count ? `${n} ${s.count}× p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} p99.9 ${s['p99.9'].toFixed(2)} max ${s.max.toFixed(2)} ms` : `${n} —`);
process.stdout.write(`inside: ${spread('http (parsed → answered)', loop.http)}; ${spread('Kafka produce round trip', loop.produce)}\n`);
process.stdout.write(
  `event loop: delay p50 ${loop.eld.p50.toFixed(1)} p99 ${loop.eld.p99.toFixed(1)} max ${loop.eld.max.toFixed(1)} ms, utilisation ${(loop.elu * 100).toFixed(0)} %; ` +
    `GC ${loop.gc.count} pauses (${loop.gc.minor.n} minor, max ${loop.gc.minor.maxMs.toFixed(1)} ms; ${loop.gc.major.n} major, max ${loop.gc.major.maxMs.toFixed(1)} ms; ${loop.gc.incremental.n} incremental), ${loop.gc.pct.toFixed(1)} % of the time; ` +
    `memory at the RSS peak ${JSON.stringify(loop.memAtPeakMB, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))} MB\n`,
);
const perThread = Object.entries(threads1).map(([k, v]) => [k, (v - (threads0[k] ?? 0)) / Math.max(1, answered)] as const).filter(([, v]) => v > 0);
process.stdout.write(`CPU µs/req by thread: ${perThread.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}\n`);
if (['1', 'live', 'old'].includes(process.env.PROFILE_HEAP ?? '')) {
  const file = await ask(probePort, 'heap');
  type HeapNode = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] };
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(root, '')}:${n.callFrame.lineNumber}`;
    sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    n.children.forEach(walk);
  };
  walk(head);
  process.stdout.write(`allocated (sampled, garbage included): ${(total / 1_048_576).toFixed(1)} MB = ${(total / Math.max(1, answered) / 1024).toFixed(1)} KB per request over ${answered} requests\n`);
  for (const [k, v] of [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) process.stdout.write(`${(v / Math.max(1, answered)).toFixed(0).padStart(7)} B/req  ${k}\n`);
  process.stdout.write(`heap profile: ${file}\n`);
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sim.close();
if (cpuProf.length === 0) process.exit(0);
const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1)!;
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[] };
const count = new Map<number, number>();
for (const s of prof.samples) count.set(s, (count.get(s) ?? 0) + 1);
const self = new Map<string, number>();
for (const n of prof.nodes) {
  const c = count.get(n.id) ?? 0;
  if (!c) continue;
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(root, '')}:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + c);
}
const total = prof.samples.length;
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
process.stdout.write(`profile: ${join(dir, file)}\n`);
