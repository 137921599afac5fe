import t from 'tap';
import { CONFIG_SCHEMA, configDocs, loadConfig } from '../src/config/index.ts';
import { HvgError } from '../src/errors.ts';
import { requiredEnv } from './helpers/env.ts';

// the settings without a default
const REQUIRED = requiredEnv({ PUBLIC_BASE_URL: 'https://gw.example.com/hv', HV_MASTER_SECRET: 'x'.repeat(32), ADMIN_TOKENS: 'admin-token-0123456789' });

t.test('defaults for an empty environment', async (t) => {
  const c = loadConfig({ ...REQUIRED });
  t.equal(c.port, 8080);
  t.same(c.kafkaBrokers, ['127.0.0.1:9092']);
  t.equal(c.kafkaTopic, 'healthvault.events');
  t.equal(c.logLevel, 'info');
});

t.test('values are parsed and trimmed', async (t) => {
  const c = loadConfig({ ...REQUIRED, PORT: ' 9000 ', KAFKA_BROKERS: 'a:1, b.example:9092,[::1]:9093', LOG_LEVEL: 'debug', KAFKA_TOPIC_REPLICATION: '3' });
  t.equal(c.port, 9000);
  t.same(c.kafkaBrokers, ['a:1', 'b.example:9092', '[::1]:9093']);
  t.equal(c.logLevel, 'debug');
  t.equal(c.kafkaTopicReplication, 3);
});

t.test('every bad value is reported, each naming its variable', async (t) => {
  const err = (() => {
    try {
      loadConfig({ ...REQUIRED, PORT: 'eighty', KAFKA_BROKERS: 'localhost', LOG_LEVEL: 'loud', KAFKA_TOPIC: 'bad topic!', KAFKA_PUBLISH_TIMEOUT_MS: '5' });
      return null;
    } catch (e) {
      return e;
    }
  })();
  t.type(err, HvgError);
  const e = err as HvgError;
  t.equal(e.code, 'HVG_ERR_CONFIG');
  t.match(e.message, /PORT must be an integer, got "eighty"/);
  t.match(e.message, /KAFKA_BROKERS has "localhost", which is not host:port/);
  t.match(e.message, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
  t.match(e.message, /KAFKA_TOPIC must be a legal Kafka topic name/);
  t.match(e.message, /KAFKA_PUBLISH_TIMEOUT_MS must be between 100 and 120000, got 5/);
  t.equal((e.details?.problems as unknown[]).length, 5);
});

t.test('range and port checks', async (t) => {
  t.throws(() => loadConfig({ ...REQUIRED, PORT: '70000' }), { message: /PORT must be between 0 and 65535/ });
  t.throws(() => loadConfig({ ...REQUIRED, KAFKA_BROKERS: 'a:0' }), { message: /KAFKA_BROKERS has "a:0"/ });
  t.throws(() => loadConfig({ ...REQUIRED, KAFKA_BROKERS: ' , ' }), { message: /KAFKA_BROKERS/ });
});

t.test('required settings and secrets from files', async (t) => {
  t.throws(() => loadConfig({}), { message: /HV_APP_ID is required[\s\S]*PUBLIC_BASE_URL is required[\s\S]*HV_MASTER_SECRET is required[\s\S]*ADMIN_TOKENS is required/ });
  t.throws(() => loadConfig({ ...REQUIRED, HV_DISCOVERY_URL: '' }), { message: /HV_DISCOVERY_URL is required unless HV_INSTANCES lists the instances/ });
  t.throws(() => loadConfig({ ...REQUIRED, HV_MASTER_SECRET: 'short' }), { message: /HV_MASTER_SECRET must be at least 32 bytes/ });
  t.throws(() => loadConfig({ ...REQUIRED, PUBLIC_BASE_URL: 'ftp://x' }), { message: /PUBLIC_BASE_URL must be an http or https URL/ });
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'hvg-config-'));
  writeFileSync(join(dir, 'secret'), 's'.repeat(40) + '\n');
  const c = loadConfig({ ...REQUIRED, HV_MASTER_SECRET: '', PUBLIC_BASE_URL: 'https://gw.example.com/hv/', HV_MASTER_SECRET_FILE: join(dir, 'secret'), ADMIN_TOKENS: 'a'.repeat(16) + ', ' + 'b'.repeat(20) });
  t.same(c.adminTokens, ['a'.repeat(16), 'b'.repeat(20)]);
  t.throws(() => loadConfig({ ...REQUIRED, ADMIN_TOKENS: 'short' }), { message: /ADMIN_TOKENS tokens must be at least 16 characters/ });
  t.equal(c.masterSecret, 's'.repeat(40), 'read from the file, trailing newline dropped');
  t.equal(c.publicBaseUrl, 'https://gw.example.com/hv', 'trailing slash dropped');
  t.throws(() => loadConfig({ ...REQUIRED, HV_MASTER_SECRET_FILE: join(dir, 'secret') }), { message: /HV_MASTER_SECRET and HV_MASTER_SECRET_FILE are both set/ });
  t.throws(() => loadConfig({ ...REQUIRED, HV_MASTER_SECRET: '', HV_MASTER_SECRET_FILE: join(dir, 'nope') }), { message: /HV_MASTER_SECRET cannot be read from HV_MASTER_SECRET_FILE "[^"]+" \(ENOENT\)/ });
});

t.test('docs list every setting once', async (t) => {
  const docs = configDocs();
  t.equal(docs.length, Object.keys(CONFIG_SCHEMA).length);
  t.equal(new Set(docs.map((d) => d.variable)).size, docs.length);
  for (const d of docs) t.ok(d.doc.length > 10, `${d.variable} is documented`);
});

t.test('the README configuration table matches the schema', async (t) => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- config-table:start -->\n([\s\S]*?)<!-- config-table:end -->/.exec(readme)?.[1] ?? '';
  const rows = block.split('\n').filter((l) => l.startsWith('| `'));
  const documented = rows.map((l) => /^\| `([A-Z0-9_]+)`/.exec(l)?.[1]);
  t.same(documented, configDocs().map((d) => d.variable), 'same variables, same order (npm run config-table prints the table)');
  for (const d of configDocs()) {
    const row = rows.find((l) => l.startsWith(`| \`${d.variable}\``)) ?? '';
    t.ok(row.includes(d.default === undefined ? '*required*' : `\`${d.default}\``), `${d.variable} default in README`);
  }
});

t.test('KAFKA_DEAD_LETTER_TOPIC: default, and never the events or state topic', async (t) => {
  t.equal(loadConfig({ ...REQUIRED }).kafkaDeadLetterTopic, 'healthvault.dead-letter');
  for (const env of [{ KAFKA_DEAD_LETTER_TOPIC: 'healthvault.events' }, { KAFKA_TOPIC: 'x', KAFKA_DEAD_LETTER_TOPIC: 'x' }, { KAFKA_DEAD_LETTER_TOPIC: 'hv-gateway.subscriptions' }, { KAFKA_DEAD_LETTER_TOPIC: 'hv-gateway.subscriptions.leader' }]) {
    t.throws(() => loadConfig({ ...REQUIRED, ...env }), { code: 'HVG_ERR_CONFIG', message: /KAFKA_DEAD_LETTER_TOPIC ".*" must differ from KAFKA_TOPIC/ }, JSON.stringify(env));
  }
  t.throws(() => loadConfig({ ...REQUIRED, KAFKA_DEAD_LETTER_TOPIC: 'bad topic' }), { code: 'HVG_ERR_CONFIG', message: /KAFKA_DEAD_LETTER_TOPIC/ });
});
