// Issue 7's shutdown check with the real process (dist/server.js, as npm start runs it): SIGTERM
// during a stream of notifications → every answered request got 200 or 503, every 200 is in
// the topic, exit code 0; a second signal forces the exit. Also: no secret reaches the log.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { ADMIN_TOKEN, APP_KEY_PEM, MASTER_SECRET, requiredEnv } from '../helpers/env.ts';
import { brokers, freePortPair, readRecords, topicEndOffset, uniqueTopic } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, PUBLIC_BASE, startSim } from '../helpers/stack.ts';

const entry = new URL('../../dist/server.js', import.meta.url).pathname;

t.test('SIGTERM during a stream: 200 or 503 only, every 200 in the topic, exit 0, no secret in the log', async (t) => {
  const sim = await startSim(t);
  const port = await freePortPair();
  const adminPort = await freePortPair();
  const topic = uniqueTopic('shutdown');
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', entry], {
    env: {
      PATH: process.env.PATH ?? '',
      ...requiredEnv(),
      HV_DISCOVERY_URL: sim.instances[0]!.platformUrl,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_STATE_TOPIC: uniqueTopic('shutdown-state'),
      KAFKA_TOPIC_REPLICATION: '1',
      KAFKA_STATE_REPLICATION: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'debug',
      SHUTDOWN_GRACE_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = once(child, 'exit');
  t.teardown(() => void child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  sim.setDeliveryRewrites([{ from: `${PUBLIC_BASE}/`, to: `${url}/` }]);
  const admin = (method: string, path: string, body?: unknown) =>
    request(`http://127.0.0.1:${adminPort}${path}`, { method: method as 'GET', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.statusCode, json: (await r.body.json()) as any }));
  await eventually('gateway ready', () => request(`${url}/readyz`).then((r) => r.body.dump().then(() => r.statusCode), () => 0), (s) => s === 200, 30_000);
  t.equal((await admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] })).status, 201);
  await eventually('in sync', () => admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status?.every((s: { state: string }) => s.state === 'in-sync'), 20_000);

  const stream = setInterval(() => {
    for (const id of ['1', '2']) sim.instance(id).addThing(sim.instance(id).createPerson().recordId, GLUCOSE);
  }, 5);
  await eventually('notifications flowing', () => sim.instance('1').deliveries({ state: 'delivered' }).length, (n) => n >= 20, 15_000);
  child.kill('SIGTERM');
  const [code] = await exited;
  clearInterval(stream);
  t.equal(code, 0, 'exit code 0 after SIGTERM');

  const batches = ['1', '2'].flatMap((id) => sim.instance(id).deliveries());
  const answered = batches.flatMap((b) => b.history.filter((h) => h.status !== undefined).map((h) => h.status));
  t.ok(answered.length > 0);
  t.same([...new Set(answered)].filter((s) => s !== 200 && s !== 503), [], `every answered request got 200 or 503 (${answered.filter((s) => s === 200).length} × 200, ${answered.filter((s) => s === 503).length} × 503)`);
  const acked = batches.filter((b) => b.history.some((h) => h.status === 200)).flatMap((b) => b.notifications.flatMap((n) => n.thingIds));
  // everything appended (a 503 may still have been written), not just as many as were acknowledged
  const records = await readRecords(topic, await topicEndOffset(topic), 20_000);
  const inTopic = new Set(records.flatMap((r) => JSON.parse(r.value).thingIds as string[]));
  t.same(acked.filter((th) => !inTopic.has(th)), [], `all ${acked.length} acknowledged notifications are in the topic`);

  t.match(log, /"msg":"closing"/);
  for (const [what, secret] of [['admin token', ADMIN_TOKEN], ['master secret', MASTER_SECRET], ['private key', APP_KEY_PEM.split('\n')[1]!]] as const) {
    t.notOk(log.includes(secret), `the ${what} is not in the log`);
  }
  t.notMatch(log, /HVEventingSharedKey [0-9a-f-]+:v\d+:[A-Za-z0-9+/=]{44}/, 'no notification Authorization header in the log');
});

t.test('a second signal forces the exit while the first one drains', async (t) => {
  const sim = await startSim(t);
  const port = await freePortPair();
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', entry], {
    env: {
      PATH: process.env.PATH ?? '', ...requiredEnv(), HV_DISCOVERY_URL: sim.instances[0]!.platformUrl, KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC: uniqueTopic('sig2'), KAFKA_STATE_TOPIC: uniqueTopic('sig2-state'), KAFKA_TOPIC_REPLICATION: '1', KAFKA_STATE_REPLICATION: '1',
      HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '60000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  const exited = once(child, 'exit');
  await eventually('gateway ready', () => request(`http://127.0.0.1:${port}/readyz`).then((r) => r.body.dump().then(() => r.statusCode), () => 0), (s) => s === 200, 30_000);
  // an in-flight request that will not finish by itself soon: a body still being uploaded
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  socket.write('POST /notifications/1/x HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<wc:not');
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  await eventually('draining', () => log, (l) => l.includes('"msg":"closing"'), 10_000);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(child.exitCode, null, 'the first signal waits for the in-flight request');
  const started = Date.now();
  child.kill('SIGTERM');
  const [code] = await exited;
  t.ok(Date.now() - started < 5000, 'the second signal ends it at once');
  t.equal(code, 1, 'a forced exit is not a clean one');
  socket.destroy();
});
