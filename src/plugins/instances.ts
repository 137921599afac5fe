// Opens the instance registry (one undici Pool per instance, app sessions, topology refresh) and
// closes pools and timers in onClose. Boot does not wait for HealthVault: the first refresh runs
// in the background and /readyz reports what is missing until it succeeds (a platform that is slow
// or down must not keep the gateway from serving notifications of the others).
import type { InstanceSettings } from '../config/instances.ts';
import { InstanceRegistry } from '../instances/registry.ts';
import { gatewayPlugin } from './gateway.ts';

declare module 'fastify' {
  interface FastifyInstance {
    instances: InstanceRegistry;
  }
}

export interface InstancesPluginOptions {
  /** already checked across variables by loadConfig (src/config/index.ts) */
  settings: InstanceSettings;
  /** Wait for the first refresh (discovery + probes) before the app is ready; tests use it. Default false. */
  waitForFirstRefresh?: boolean;
  /** How long a refused app credential is remembered before CAST is tried again (default 5 s). */
  refusalHoldMs?: number;
}

export default gatewayPlugin<InstancesPluginOptions>(
  async (app, { settings, waitForFirstRefresh, refusalHoldMs }) => {
    const registry = new InstanceRegistry({
      settings,
      logger: app.log.child({ module: 'instances' }),
      ...(refusalHoldMs === undefined ? {} : { refusalHoldMs }),
    });
    app.decorate('instances', registry);
    app.addHook('onClose', async () => registry.close());
    const started = registry.start();
    if (waitForFirstRefresh === true) await started;
  },
  { name: 'hvg-instances' },
);
