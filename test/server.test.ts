// The process entry as users run it (npm start = node dist/server.js, built by npm test).
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';
import { requiredEnv } from './helpers/env.ts';
import { brokers, freePortPair, uniqueTopic } from './helpers/kafka.ts';

const entry = new URL('../dist/server.js', import.meta.url).pathname;

function runServer(env: Record<string, string>) {
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...requiredEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => out };
}

t.test('a bad configuration exits 1 before anything opens, naming each variable', async (t) => {
  const s = runServer({ PORT: 'x', KAFKA_BROKERS: 'nohost', KAFKA_MAX_BATCH_RECORDS: '0' });
  t.equal(await s.exited, 1);
  t.match(s.output(), /PORT must be an integer/);
  t.match(s.output(), /KAFKA_BROKERS has "nohost"/);
  t.match(s.output(), /KAFKA_MAX_BATCH_RECORDS must be between 1 and 100000/);
});

t.test('an unreachable Kafka exits 1 with a message naming the brokers', async (t) => {
  const s = runServer({ KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CONNECT_TIMEOUT_MS: '1000', PORT: '0' });
  t.equal(await s.exited, 1);
  t.match(s.output(), /cannot reach Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/);
});

t.test('starts, serves, and exits 0 on SIGTERM', async (t) => {
  const port = await freePortPair();
  const adminPort = await freePortPair();
  const s = runServer({ KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: uniqueTopic('server'), KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1', HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort), LOG_LEVEL: 'info' });
  const deadline = Date.now() + 30_000;
  let ready = false;
  while (!ready && Date.now() < deadline) {
    ready = await request(`http://127.0.0.1:${port}/readyz`).then((r) => r.body.dump().then(() => r.statusCode === 200), () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(ready, 'ready over HTTP');
  const m = await request(`http://127.0.0.1:${adminPort}/metrics`);
  t.equal(m.statusCode, 200, 'the admin port serves /metrics');
  t.match(await m.body.text(), /hv_gateway_sink_ready 1/);
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0, 'clean exit');
  t.match(s.output(), /"msg":"closing"/);
  t.match(s.output(), /Kafka sink closed/);
});
