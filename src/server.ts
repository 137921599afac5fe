// Process entry: config → app → listen; graceful close on SIGTERM/SIGINT (a second signal or
// the grace period forces exit). A bad configuration exits 1 before anything opens.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { loadConfig, type Config } from './config/index.ts';
import { listenAll } from './plugins/admin.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`hv-gateway: ${(err as Error).message}\n`);
  process.exit(1);
}

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp(config);
} catch (err) {
  process.stderr.write(`hv-gateway: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}

closeWithGrace({ delay: config.shutdownGraceMs, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an unexpected error');
  else app.log.info({ signal }, 'closing');
  await app.close();
});

try {
  await listenAll(app, config.host, config.port, config.adminPort);
} catch (err) {
  app.log.fatal({ err }, 'cannot listen');
  await app.close().catch(() => {});
  process.exit(1);
}
