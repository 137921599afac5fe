// npm run demo — the whole pipeline on one machine, from nothing:
//   a real Kafka broker (scripts/kafka.sh) → the simulator (US "1", EU "2") → the gateway →
//   a subscription created over REST → thing changes in both instances → the tagged events read
//   back from the topic and shown. Everything stops at the end (--keep leaves it running).
//   --secured: the broker gets its SASL_SSL listener; the gateway connects over it as the
//     least-privilege principal `gateway` holding exactly the README's ACLs, the reader as `admin`.
//   --early: the gateway starts while the broker is still booting (as compose and Kubernetes
//     start them); it must ride through the broker's start quietly (plaintext only: the ACLs
//     can only be granted once the broker runs).
// The application identity is the throwaway TEST-ONLY fixture key pair: demo data only.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { gatewayAcls, grantAcls } from '../src/kafka/acls.ts';
import { createKafkaClient, kafkaConnectionFromEnv, PLAINTEXT, type KafkaSecurity } from '../src/kafka/index.ts';
import { listenAll } from '../src/plugins/admin.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import { GLUCOSE } from '../support/fixtures.ts';

const { values } = parseArgs({
  options: { keep: { type: 'boolean', default: false }, changes: { type: 'string', default: '3' }, secured: { type: 'boolean', default: false }, early: { type: 'boolean', default: false } },
});
if (values.secured && values.early) {
  process.stderr.write('demo: --early is plaintext only (the ACLs of --secured are granted once the broker runs)\n');
  process.exit(2);
}
const ROOT = new URL('..', import.meta.url).pathname;
const fixture = (f: string) => readFileSync(`${ROOT}test/fixtures/healthvault/${f}`, 'utf8');
const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
const TOKEN = 'demo-admin-token-0123456789';
const say = (s: string) => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n\x1b[1m▶ ${s}\x1b[0m`);
const silent = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  for (;;) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    const free = async (port: number) =>
      new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
      });
    if ((await free(p)) && (await free(p + 1)) && (await free(p + 2))) return p;
  }
}

const kafkaPort = await freePort();
const kafkaEnv = { ...process.env, KAFKA_PORT: String(kafkaPort), KAFKA_SASL_PORT: values.secured ? String(kafkaPort + 2) : '' };
const stops: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const s of stops.reverse()) await s().catch(() => {});
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  step(`Kafka: a real single-node broker on 127.0.0.1:${kafkaPort}${values.secured ? ` with a SASL_SSL listener on ${kafkaPort + 2}` : ''} (jars from Maven Central, cached in .cache/)`);
  const starting = spawn('bash', [`${ROOT}scripts/kafka.sh`, 'start'], { env: kafkaEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const started = once(starting, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`scripts/kafka.sh start exited ${code}`);
  });
  stops.push(async () => void execFileSync('bash', [`${ROOT}scripts/kafka.sh`, 'stop'], { env: kafkaEnv, stdio: 'ignore' }));
  if (values.early) say('  --early: not waiting for it; the gateway starts now and rides through the broker\'s start');
  else await started;

  // where the gateway and the reader connect, and as whom
  let gatewayKafka: Record<string, string> = { KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` };
  let readerSecurity: KafkaSecurity = PLAINTEXT;
  let readerBrokers = [`127.0.0.1:${kafkaPort}`];
  if (values.secured) {
    const vars = Object.fromEntries([...execFileSync('bash', [`${ROOT}scripts/kafka.sh`, 'env'], { env: kafkaEnv, encoding: 'utf8' }).matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    gatewayKafka = {
      KAFKA_BROKERS: vars.HVG_KAFKA_SASL_BROKERS!, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: vars.HVG_KAFKA_CA_FILE!,
      KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: vars.HVG_KAFKA_GATEWAY_USERNAME!, KAFKA_SASL_PASSWORD: vars.HVG_KAFKA_GATEWAY_PASSWORD!,
    };
    const reader = kafkaConnectionFromEnv({ ...gatewayKafka, KAFKA_SASL_USERNAME: vars.HVG_KAFKA_ADMIN_USERNAME!, KAFKA_SASL_PASSWORD: vars.HVG_KAFKA_ADMIN_PASSWORD! }, 'hv-demo');
    readerSecurity = reader.security;
    readerBrokers = [...reader.brokers];
    const acls = gatewayAcls({ eventsTopic: 'healthvault.events', stateTopic: 'hv-gateway.subscriptions', clientId: 'hv-gateway', createTopics: true, thingsTopic: 'healthvault.things' });
    const admin = createKafkaClient({ connection: { ...reader, clientId: 'hv-demo-acls' } }).admin();
    await admin.connect();
    await grantAcls(admin, acls, `User:${vars.HVG_KAFKA_GATEWAY_USERNAME}`);
    await admin.disconnect();
    say(`  SASL_SSL ${gatewayKafka.KAFKA_BROKERS}: the gateway connects as "${vars.HVG_KAFKA_GATEWAY_USERNAME}" with only these ACLs (README "Connecting to your Kafka"):`);
    for (const a of acls) say(`    ${a.resource} ${a.name}${a.pattern === 'prefixed' ? '*' : ''}: ${a.operations.join(', ')}`);
  }

  step('HealthVault simulator: US (instance "1") and EU (instance "2")');
  const sim = await startSimulator(
    { host: '127.0.0.1', logLevel: 'silent', batchWindowMs: 50, timeScale: 600, applications: [{ appId: APP_ID, certificates: [fixture('test-app-cert.TEST-ONLY.pem')], actionUrl: 'https://gateway.example.com/hv/redirect.aspx' }] },
    { logger: silent },
  );
  stops.push(() => sim.close());
  for (const i of sim.instances) say(`  instance ${i.id} (${i.name})  ${i.platformUrl}`);

  step('hv-gateway: discovers the instances from the US topology, connects to Kafka');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_PORT: '0', // the admin API on a listener of its own, on a free port
    LOG_LEVEL: 'warn',
    ...gatewayKafka,
    // --early: the broker's own start (JVM, format, election) counts against this bound
    KAFKA_CONNECT_TIMEOUT_MS: values.early ? '180000' : '30000',
    KAFKA_TOPIC: 'healthvault.events',
    KAFKA_TOPIC_REPLICATION: '1',
    KAFKA_STATE_REPLICATION: '1',
    PUBLIC_BASE_URL: 'https://gateway.example.com/hv',
    HV_MASTER_SECRET: 'demo-master-secret-do-not-use-in-production-0123456789',
    ADMIN_TOKENS: TOKEN,
    HV_APP_ID: APP_ID,
    HV_APP_CERT: fixture('test-app-cert.TEST-ONLY.pem'),
    HV_APP_PRIVATE_KEY: fixture('test-app-key.TEST-ONLY.pem'),
    HV_DISCOVERY_URL: sim.instances[0]!.platformUrl,
  });
  const app = await buildApp(config, { waitForInstances: true });
  stops.push(() => app.close());
  await started;
  const { url, adminUrl } = await listenAll(app, '127.0.0.1', 0, config.adminPort);
  // HealthVault only calls https URLs; the simulator maps the public origin to our loopback address
  // and keeps the path: the gateway serves /hv/notifications/… itself, as behind a plain TLS proxy
  sim.setDeliveryRewrites([{ from: 'https://gateway.example.com/', to: `${url}/` }]);
  say(`  notifications on ${url}   (callbacks: https://gateway.example.com/hv/notifications/{instanceId}/{name})`);
  say(`  admin API on ${adminUrl}   (ADMIN_PORT; never on the public port)`);

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${adminUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as any };
  };

  step('REST: create one subscription — it is registered identically in every instance; enrich: true also fetches every changed thing');
  say(`  curl -X PUT ${adminUrl}/v1/subscriptions/glucose -H 'authorization: Bearer …' -d '{"typeIds":["${GLUCOSE}"],"enrich":true}'`);
  const put = await admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true });
  say(`  → ${put.status}, ETag ${put.json.etag}`);
  let view;
  for (let i = 0; i < 100; i++) {
    view = await admin('GET', '/v1/subscriptions/glucose');
    if (view.json.status.every((s: { state: string }) => s.state === 'in-sync')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const s of view!.json.status) say(`  instance ${s.instanceId}: ${s.state}, HealthVault subscription ${s.hvSubscriptionId}, key ${s.keyVersion !== null ? `v${s.keyVersion}` : '-'}`);

  const changes = Number(values.changes);
  step(`Thing changes: ${changes} blood-glucose readings in each instance`);
  const expected = new Map<string, string>();
  for (const id of ['1', '2']) {
    const inst = sim.instance(id);
    const person = inst.createPerson(`demo person (${id})`);
    for (let k = 0; k < changes; k++) {
      const mmol = (4.5 + Math.random() * 4).toFixed(1);
      expected.set(inst.addThing(person.recordId, GLUCOSE, { data: `<blood-glucose><value><mmolPerL>${mmol}</mmolPerL></value></blood-glucose>` }).thingId, id);
    }
  }

  step(`Kafka topic "${config.kafkaTopic}": the events, each tagged with the instance it came from`);
  const kafka = createKafkaClient({ connection: { brokers: readerBrokers, clientId: 'hv-demo', security: readerSecurity } });
  const consumer = kafka.consumer({ groupId: `hv-demo-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: config.kafkaTopic, fromBeginning: true });
  const seen = new Set<string>();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        const h = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        const v = JSON.parse(message.value!.toString());
        for (const th of v.thingIds) seen.add(th);
        say(`  partition ${partition} key ${message.key}  ce_source=${h.ce_source} ce_id=${h.ce_id}`);
        say(`    ${JSON.stringify(v)}`);
        if ([...expected.keys()].every((th) => seen.has(th))) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  const missing = [...expected.keys()].filter((th) => !seen.has(th));

  step(`Kafka topic "${config.kafkaThingsTopic}": the enrichment stage fetched each changed thing from its own instance (GetThings, offline)`);
  const thingsReader = kafka.consumer({ groupId: `hv-demo-things-${Date.now()}` });
  await thingsReader.connect();
  await thingsReader.subscribe({ topic: config.kafkaThingsTopic, fromBeginning: true });
  const enriched = new Set<string>();
  let shown = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void thingsReader.run({
      eachMessage: async ({ message }) => {
        const v = JSON.parse(message.value!.toString());
        enriched.add(v.thingId);
        say(`  key ${message.key}  ${v.kind} ${v.typeName ?? ''} eff-date ${v.effectiveDate ?? '-'}  ${String(v.dataXml ?? '').replace(/\s+/g, ' ').slice(0, 110)}`);
        if (shown++ === 0) say(`    ${JSON.stringify(v)}`);
        if ([...expected.keys()].every((th) => enriched.has(th))) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await thingsReader.disconnect();
  const notEnriched = [...expected.keys()].filter((th) => !enriched.has(th));
  say(notEnriched.length === 0 ? `  every changed thing is in ${config.kafkaThingsTopic}, with its data, from the instance it lives in` : `  ${notEnriched.length} things not enriched`);
  missing.push(...notEnriched);
  step(missing.length === 0 ? `All ${expected.size} changes arrived, tagged with their instance.` : `${missing.length} of ${expected.size} changes did not arrive`);
  if (values.keep) {
    say(`\nStill running (Ctrl-C to stop): gateway ${url} (admin ${adminUrl}), simulator control ${sim.controlUrl}/_sim, Kafka 127.0.0.1:${kafkaPort}${values.secured ? ` (SASL_SSL ${kafkaPort + 2}; scripts/kafka.sh env with KAFKA_PORT=${kafkaPort})` : ''}`);
    say(`  try: curl -H 'authorization: Bearer ${TOKEN}' ${adminUrl}/v1/consistency`);
    await new Promise(() => {});
  }
  await stopAll();
  process.exit(missing.length === 0 ? 0 : 1);
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  await stopAll();
  process.exit(1);
}
