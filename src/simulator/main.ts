// `npm run simulator -- --config path/to/simulator.json`: starts the simulated instances and the
// control server, prints where they listen, and closes gracefully on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { loadConfigFile } from './config-file.ts';
import type { SimulatorConfig } from './sim-config.ts';
import { startSimulator } from './simulator.ts';
import type { Simulator } from './simulator.ts';

const USAGE = `usage: npm run simulator -- [--config simulator.json] [--log-level info]
Starts simulated HealthVault instances (default US "1" and EU "2") and the control API.
See docs/simulator.md; example config: src/simulator/simulator.example.json.`;

let config: SimulatorConfig = {};
let logLevel: string | undefined;
try {
  const { values } = parseArgs({ options: { config: { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.config !== undefined) config = loadConfigFile(values.config);
  logLevel = values['log-level'];
} catch (err) {
  process.stderr.write(`hv-simulator: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(1);
}

let sim: Simulator;
try {
  sim = await startSimulator(logLevel === undefined ? config : { ...config, logLevel });
} catch (err) {
  process.stderr.write(`hv-simulator: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}

closeWithGrace({ delay: 5000 }, async ({ signal, err }) => {
  if (err) process.stderr.write(`hv-simulator: closing after an unexpected error: ${err.stack ?? err.message}\n`);
  else process.stderr.write(`hv-simulator: ${signal ?? 'close'} received, closing\n`);
  await sim.close();
});

const lines = [
  'hv-simulator ready',
  `  control API  ${sim.controlUrl}/_sim`,
  ...sim.instances.map((i) => `  instance ${i.id} (${i.name})  port ${i.port}  ${i.platformUrl}`),
  `  applications ${sim.config.applications.size}${sim.config.applications.size === 0 ? ' (none configured: CAST answers 6 INVALID_APP)' : ''}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
