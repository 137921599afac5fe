// The TLS/SASL settings: names operators rely on, bad combinations refused at load time with the
// variable named, secrets never in messages; and what they turn into for kafkajs.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { HvgError } from '../../src/errors.ts';
import { describeConnection, kafkaConnectionFromEnv, kafkajsConfig, kafkaSecurity } from '../../src/kafka/index.ts';
import { APP_CERT_PEM, APP_KEY_PEM, requiredEnv } from '../helpers/env.ts';
import { runServerUntilExit } from '../helpers/server-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'hvg-kafka-settings-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const CA = file('ca.pem', APP_CERT_PEM);
const CERT = file('cert.pem', APP_CERT_PEM);
const KEY = file('key.pem', APP_KEY_PEM);
const NOT_PEM = file('not.pem', 'hello');
const PASSWORD_FILE = file('password', 'from-a-file\n');

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(requiredEnv(env));
    return [];
  } catch (err) {
    if (!(err instanceof HvgError)) throw err;
    return (err.details?.problems as { message: string }[]).map((p) => p.message);
  }
};

t.test('good combinations load', async (t) => {
  t.same(problems({}), [], 'plaintext, no SASL (the default)');
  t.same(problems({ KAFKA_SSL: 'true' }), [], 'TLS with the system CAs');
  t.same(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: CA, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD: 'pw' }), []);
  t.same(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: KEY, KAFKA_SSL_SERVERNAME: 'kafka.example.com' }), [], 'mutual TLS');
  t.same(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD_FILE: PASSWORD_FILE }), [], 'password from a file');
  t.equal(loadConfig(requiredEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD_FILE: PASSWORD_FILE })).kafkaSaslPassword, 'from-a-file');
  t.equal(loadConfig(requiredEnv({})).kafkaCreateTopics, true, 'KAFKA_CREATE_TOPICS defaults to true');
});

t.test('bad combinations are refused, each naming its variable, never echoing the password', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-256' }, /KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM=scram-sha-256/],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'gw' }, /KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\) is required/],
    [{ KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD: 'top-secret-pw' }, /KAFKA_SASL_MECHANISM is required/],
    [{ KAFKA_SASL_MECHANISM: 'gssapi' }, /KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: KEY }, /KAFKA_SSL_CERT_FILE is required with KAFKA_SSL_KEY_FILE/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: CERT }, /KAFKA_SSL_KEY_FILE is required with KAFKA_SSL_CERT_FILE/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }, /KAFKA_SSL_CA_FILE ".*missing.pem" cannot be read \(ENOENT\)/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: NOT_PEM }, /KAFKA_SSL_CA_FILE ".*" is not a PEM file with a CERTIFICATE block/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: CERT }, /KAFKA_SSL_KEY_FILE ".*" is not a PEM file with a PRIVATE KEY block/],
    [{ KAFKA_SSL_CA_FILE: CA }, /KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true/],
    [{ KAFKA_SSL: 'maybe' }, /KAFKA_SSL must be true or false/],
    [{ KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: PASSWORD_FILE }, /KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set/],
  ];
  for (const [env, expected] of cases) {
    const got = problems(env);
    t.match(got.join('\n'), expected, JSON.stringify(env));
    t.notMatch(got.join('\n'), /top-secret-pw/);
  }
});

t.test('what the settings turn into for kafkajs; logs see no secret', async (t) => {
  const config = loadConfig(requiredEnv({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: CA, KAFKA_SSL_SERVERNAME: 'kafka.example.com', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD: 'pw-123' }));
  const connection = { brokers: config.kafkaBrokers, clientId: config.kafkaClientId, security: kafkaSecurity(config) };
  const k = kafkajsConfig({ connection, clientIdSuffix: 'store' });
  t.equal(k.clientId, 'hv-gateway-store');
  t.same(k.sasl, { mechanism: 'scram-sha-512', username: 'gw', password: 'pw-123' });
  t.same(k.ssl, { ca: [APP_CERT_PEM], servername: 'kafka.example.com' });
  t.same(describeConnection(connection), { brokers: ['127.0.0.1:9092'], tls: true, sasl: 'scram-sha-512:gw' });
  t.notMatch(JSON.stringify(describeConnection(connection)), /pw-123/);
  t.equal(kafkajsConfig({ connection: { ...connection, security: { tls: {}, sasl: null } } }).ssl, true, 'TLS with the system CAs');
  t.equal(kafkajsConfig({ connection: { ...connection, security: { tls: null, sasl: null } } }).ssl, undefined, 'plaintext');
});

t.test('scripts and test helpers read the same settings from an environment', async (t) => {
  const c = kafkaConnectionFromEnv({ KAFKA_BROKERS: 'a:1,b:2', KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: PASSWORD_FILE }, 'script');
  t.same(c.brokers, ['a:1', 'b:2']);
  t.same(c.security, { tls: {}, sasl: { mechanism: 'plain', username: 'u', password: 'from-a-file' } });
  t.throws(() => kafkaConnectionFromEnv({ KAFKA_SASL_MECHANISM: 'plain' }, 'script'), /KAFKA_SASL_USERNAME is required/);
});

t.test('the server process (npm start) exits 1 on a bad combination, naming the variables, before connecting', async (t) => {
  const { code, out } = await runServerUntilExit({ ...requiredEnv(), KAFKA_BROKERS: '127.0.0.1:1', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: KEY });
  t.equal(code, 1);
  t.match(out, /KAFKA_SASL_USERNAME is required/);
  t.match(out, /KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\) is required/);
  t.match(out, /KAFKA_SSL_CERT_FILE is required with KAFKA_SSL_KEY_FILE/);
  t.notMatch(out, /cannot reach Kafka/, 'stopped before any connection attempt');
});
