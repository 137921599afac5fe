// The app honours KAFKA_CONNECT_TIMEOUT_MS as the bound of its start, also above fastify's default
// 10 s plugin timeout (which used to cut a start still riding through a booting broker with a
// bare "Plugin did not start in time: 'hvg-sink'").
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { HvgError } from '../../src/errors.ts';
import { requiredEnv } from '../helpers/env.ts';

t.test('a connect timeout above 10 s ends in the coded Kafka error, not a plugin timeout', async (t) => {
  const config = loadConfig(requiredEnv({ KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CONNECT_TIMEOUT_MS: '10500', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' }));
  const err = await buildApp(config).then(
    async (app) => {
      await app.close();
      return null;
    },
    (e: unknown) => e,
  );
  t.ok(err instanceof HvgError, `a coded error: ${String(err)}`);
  t.equal((err as HvgError).code, 'HVG_ERR_KAFKA_UNREACHABLE');
  t.match((err as HvgError).message, /cannot reach Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\) within 10500 ms/);
});
