// The one way tests start a simulator: the fixture app registered, on 127.0.0.1 port 0, logs at
// TEST_LOG_LEVEL (silent by default), closed when the test ends. `config` adds or overrides.
import type { Test } from 'tap';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.ts';
import type { SimulatorConfig } from '../../src/simulator/sim-config.ts';
import { TEST_APP } from '../../support/fixtures.ts';

export async function startSim(t: Test, config: SimulatorConfig = {}): Promise<Simulator> {
  const sim = await startSimulator({ host: '127.0.0.1', logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', applications: [TEST_APP], ...config });
  t.teardown(() => sim.close());
  return sim;
}
