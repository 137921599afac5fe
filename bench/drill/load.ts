// The load: a steady stream of thing changes (add, update, delete) in every simulated instance,
// spread over a pool of people so that some changes of one record share a notification. The
// simulator turns them into signed notification POSTs to the gateway and retries anything but
// 200, as HealthVault did.
import type { Simulator } from '../../src/simulator/simulator.ts';

export interface LoadOptions {
  /** thing changes per second in each instance */
  ratePerInstance: number;
  instances: readonly string[];
  /** thing types changed, picked round-robin */
  typeIds: readonly string[];
  /** people per instance the changes are spread over */
  people?: number;
}

interface InstanceState {
  records: string[];
  /** live things */
  things: string[];
  changes: number;
}

export class LoadStream {
  readonly #sim: Simulator;
  readonly #o: LoadOptions;
  readonly #state = new Map<string, InstanceState>();
  #timer: NodeJS.Timeout | undefined;
  #started = 0;
  #done = 0;
  #turn = 0;
  startedAt = 0;
  stoppedAt = 0;
  /** changes the simulator refused (should stay 0) */
  errors = 0;
  lastError: string | undefined;

  constructor(sim: Simulator, o: LoadOptions) {
    this.#sim = sim;
    this.#o = o;
    for (const id of o.instances) {
      const inst = sim.instance(id);
      const records = Array.from({ length: o.people ?? 40 }, () => inst.createPerson().recordId);
      this.#state.set(id, { records, things: [], changes: 0 });
    }
  }

  get changes(): number {
    let n = 0;
    for (const s of this.#state.values()) n += s.changes;
    return n;
  }

  changesIn(instanceId: string): number {
    return this.#state.get(instanceId)?.changes ?? 0;
  }

  start(): void {
    if (this.#timer) return;
    this.startedAt = Date.now();
    this.#started = performance.now();
    this.#done = 0;
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.stoppedAt = Date.now();
  }

  #tick(): void {
    const due = Math.floor(((performance.now() - this.#started) / 1000) * this.#o.ratePerInstance);
    const n = due - this.#done;
    this.#done = due;
    for (let i = 0; i < n; i++) for (const id of this.#o.instances) this.#change(id);
  }

  #change(instanceId: string): void {
    const s = this.#state.get(instanceId)!;
    const inst = this.#sim.instance(instanceId);
    const roll = Math.random();
    try {
      if (s.things.length > 20 && roll < 0.25) {
        const thingId = s.things[Math.floor(Math.random() * s.things.length)]!;
        inst.updateThing(thingId);
      } else if (s.things.length > 20 && roll < 0.35) {
        const i = Math.floor(Math.random() * s.things.length);
        const thingId = s.things[i]!;
        s.things[i] = s.things[s.things.length - 1]!;
        s.things.pop();
        inst.deleteThing(thingId);
      } else {
        const typeId = this.#o.typeIds[this.#turn++ % this.#o.typeIds.length]!;
        const recordId = s.records[Math.floor(Math.random() * s.records.length)]!;
        const { thingId } = inst.addThing(recordId, typeId);
        s.things.push(thingId);
      }
      s.changes += 1;
    } catch (err) {
      this.errors += 1;
      this.lastError = (err as Error).message;
    }
  }
}
