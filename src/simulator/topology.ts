// The topology every simulated instance answers in GetServiceDefinition v2 (healthvault-protocol.md
// §3.2): the same list everywhere, each platform naming itself as current-instance-id; the
// updated-date moves forward whenever the list changes so "not modified" answers stay truthful.
import type { ServiceInstance } from '../healthvault/index.ts';

export class Topology {
  readonly #instances: ServiceInstance[] = [];
  #updatedAt = new Date();

  get instances(): readonly ServiceInstance[] {
    return this.#instances;
  }

  get updatedAt(): Date {
    return this.#updatedAt;
  }

  has(id: string): boolean {
    return this.#instances.some((i) => i.id === id);
  }

  get(id: string): ServiceInstance | undefined {
    return this.#instances.find((i) => i.id === id);
  }

  add(instance: ServiceInstance): void {
    this.#instances.push(instance);
    this.#touch();
  }

  remove(id: string): void {
    const at = this.#instances.findIndex((i) => i.id === id);
    if (at >= 0) this.#instances.splice(at, 1);
    this.#touch();
  }

  /**
   * True when the definition changed after `since` (the client's updated-date). A date without a
   * zone is read as UTC [I] (SDK samples carry none, §3.2).
   */
  modifiedSince(since: string | undefined): boolean {
    if (since === undefined) return true;
    const at = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(since) ? since : `${since}Z`);
    return Number.isNaN(at) || this.#updatedAt.getTime() > at;
  }

  /** Strictly later than the previous value, even within one millisecond. */
  #touch(): void {
    const now = Date.now();
    this.#updatedAt = new Date(Math.max(now, this.#updatedAt.getTime() + 1));
  }
}
