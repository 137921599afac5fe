// Developer tool: a CPU profile of the built gateway under closed-loop load (not part of npm run
// bench). node bench/profile-gateway.ts [seconds] → prints the top self-time functions and leaves
// the .cpuprofile in .cache/profile/ (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { notificationKeyObject } from '../src/healthvault/index.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import { KeyDeriver } from '../src/subscriptions/keys.ts';
import { freePort, waitHttpOk } from './lib/proc.ts';
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
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--disable-warning=TimeoutNegativeWarning', ...extraFlags, join(root, 'dist/server.js')], {
  env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: 'shared', KAFKA_BROKERS: brokers, KAFKA_TOPIC: `prof-${Date.now()}`, KAFKA_STATE_TOPIC: `prof-state-${Date.now()}`, KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1', PUBLIC_BASE_URL: 'https://gw.prof/hv', HV_MASTER_SECRET: SECRET, ADMIN_TOKENS: TOKEN, HV_APP_ID: APP_ID, HV_APP_CERT: fixture('test-app-cert.TEST-ONLY.pem'), HV_APP_PRIVATE_KEY: fixture('test-app-key.TEST-ONLY.pem'), HV_DISCOVERY_URL: sim.instances[0]!.platformUrl, NOTIFICATION_RATE_LIMIT: '10000000' },
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
const requests = payloadPool(1024, 64, hvId).map((p) => ({ method: 'POST' as const, path: '/notifications/1/p', body: p.body, headers: { 'content-type': 'text/xml', authorization: signatureHeader(p.body, key, hvId!, 'v1') } }));
let maxRss = 0;
const rssTimer = setInterval(() => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  if (m) maxRss = Math.max(maxRss, Number(m[1]) / 1024);
}, 200);
const result = await autocannon({ url: origin, connections: Number(process.env.PROFILE_CONNECTIONS ?? 64), duration: seconds, requests });
clearInterval(rssTimer);
process.stdout.write(`${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}, max RSS ${maxRss.toFixed(0)} MB\n`);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sim.close();
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
