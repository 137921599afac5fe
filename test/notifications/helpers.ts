// A real instance registry serving a fixed list (HV_INSTANCES, explicit mode: it has its view at
// once and opens no connection until asked), for receiver tests that do not start a simulator.
import type { Test } from 'tap';
import { loadConfig } from '../../src/config.ts';
import { InstanceRegistry } from '../../src/instances/registry.ts';
import { requiredEnv } from '../helpers/env.ts';
import { silentLogger } from '../helpers/kafka.ts';

export function servedInstances(t: Test, ids: readonly string[]): InstanceRegistry {
  const list = ids.map((id) => ({ id, name: `I${id}`, platformUrl: `http://127.0.0.1:9/${id}/platform/wildcat.ashx`, shellUrl: `http://127.0.0.1:9/${id}/shell/` }));
  const settings = loadConfig({ ...requiredEnv(), HV_DISCOVERY_URL: '', HV_INSTANCES: JSON.stringify(list) });
  const registry = new InstanceRegistry({ settings, logger: silentLogger });
  t.teardown(() => registry.close());
  return registry;
}
