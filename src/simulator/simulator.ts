// startSimulator(config): N simulated HealthVault instances (default US "1" and EU "2"), each on
// its own port, sharing one topology and one delivery client, plus the JSON control server.
// Used in-process by other modules' tests and by the CLI (main.ts).
import { pino } from 'pino';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { loggerOptions } from '../logger.ts';
import { checkInstanceSpec, resolveConfig, validateRewrites } from './sim-config.ts';
import type { DeliveryRewrite, InstanceSpec, ResolvedConfig, SimulatorConfig } from './sim-config.ts';
import { startControlServer } from './control-server.ts';
import type { ControlServer } from './control-server.ts';
import { DeliveryClient } from './delivery-client.ts';
import { SimInstance } from './sim-instance.ts';
import type { InstanceInfo } from './sim-instance.ts';
import { Topology } from './topology.ts';

export interface Simulator {
  /** Every running instance, in creation order (also those added at run time). */
  readonly instances: readonly InstanceInfo[];
  readonly controlUrl: string;
  readonly topology: Topology;
  readonly config: ResolvedConfig;
  /** The instance's control surface (people, things, subscriptions, faults, deliveries, stats). */
  instance(id: string): SimInstance;
  /** Starts a new instance; it appears in every instance's topology with a later updated-date. */
  addInstance(spec?: InstanceSpec): Promise<InstanceInfo>;
  readonly deliveryRewrites: readonly DeliveryRewrite[];
  setDeliveryRewrites(rewrites: readonly DeliveryRewrite[]): readonly DeliveryRewrite[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** Defaults to a pino logger at config.logLevel. */
  readonly logger?: Logger;
}

class RunningSimulator implements Simulator {
  readonly config: ResolvedConfig;
  readonly topology = new Topology();
  readonly #log: Logger;
  readonly #client: DeliveryClient;
  readonly #instances = new Map<string, SimInstance>();
  #control: ControlServer | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: ResolvedConfig, log: Logger) {
    this.config = config;
    this.#log = log;
    this.#client = new DeliveryClient({ timeoutMs: config.deliveryTimeoutMs, rewrites: config.deliveryRewrites });
  }

  async start(): Promise<void> {
    for (const spec of this.config.instances) await this.addInstance(spec);
    this.#control = await startControlServer(this, this.#log.child({ component: 'control' }), this.config.host, this.config.controlPort, this.config.advertisedHost);
  }

  get instances(): InstanceInfo[] {
    return [...this.#instances.values()].flatMap((i) => {
      try {
        return [i.info];
      } catch {
        return []; // still starting
      }
    });
  }

  get controlUrl(): string {
    if (this.#control === undefined) throw new HvgError('HVG_ERR_INTERNAL', 'the control server is not started');
    return this.#control.url;
  }

  instance(id: string): SimInstance {
    return this.#instances.get(id) ?? (() => {
      throw new HvgError('HVG_ERR_NOT_FOUND', `no simulated instance with id ${JSON.stringify(id)}`);
    })();
  }

  async addInstance(spec: InstanceSpec = {}): Promise<InstanceInfo> {
    if (this.#closing !== undefined) throw new HvgError('HVG_ERR_INTERNAL', 'the simulator is closing');
    const problems: string[] = [];
    checkInstanceSpec(spec, 'instance', problems);
    if (problems.length > 0) throw new HvgError('HVG_ERR_VALIDATION', problems.join('; '));
    const id = spec.id ?? this.#nextId();
    if (this.#instances.has(id)) throw new HvgError('HVG_ERR_VALIDATION', `instance ${JSON.stringify(id)} already exists`);
    const instance = new SimInstance({
      id, spec, config: this.config, topology: this.topology, client: this.#client, logger: this.#log.child({ instanceId: id }),
    });
    this.#instances.set(id, instance); // reserve the id while listening
    try {
      const info = await instance.start();
      this.#log.info({ instanceId: id, platformUrl: info.platformUrl }, 'instance started');
      return info;
    } catch (err) {
      this.#instances.delete(id);
      await instance.close().catch(() => undefined);
      throw err;
    }
  }

  /** Default ids continue the numbering: "3" after US "1" and EU "2". */
  #nextId(): string {
    let max = 0;
    for (const id of this.#instances.keys()) if (/^\d+$/.test(id)) max = Math.max(max, Number(id));
    return String(max + 1);
  }

  get deliveryRewrites(): readonly DeliveryRewrite[] {
    return this.#client.rewrites;
  }

  setDeliveryRewrites(rewrites: readonly DeliveryRewrite[]): readonly DeliveryRewrite[] {
    const problems: string[] = [];
    const checked = validateRewrites(rewrites, 'deliveryRewrites', problems);
    if (problems.length > 0) throw new HvgError('HVG_ERR_VALIDATION', problems.join('; '));
    this.#client.rewrites = checked;
    return checked;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#control?.close();
      await Promise.all([...this.#instances.values()].map((i) => i.close()));
      await this.#client.close();
    })();
    return this.#closing;
  }
}

/** Starts every configured instance and the control server; throws HVG_ERR_CONFIG on bad config. */
export async function startSimulator(config: SimulatorConfig = {}, options: StartOptions = {}): Promise<Simulator> {
  const resolved = resolveConfig(config);
  const log = options.logger ?? pino({ ...loggerOptions(resolved.logLevel), base: { service: 'hv-simulator' } });
  const sim = new RunningSimulator(resolved, log);
  try {
    await sim.start();
  } catch (err) {
    await sim.close().catch(() => undefined);
    throw err;
  }
  return sim;
}
