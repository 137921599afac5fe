// Readiness of the instances module, in the shape /readyz uses (a check = "ok" or what is wrong).
// Only problems a retry will not fix count (no topology yet, a platform that is another instance,
// a refused app credential): one unreachable instance must not take the gateway out of rotation
// while the others keep delivering notifications.
import type { ReadinessProblem } from './instance-types.ts';
import type { InstanceRegistry } from './registry.ts';

export interface InstancesReadiness {
  readonly ok: boolean;
  /** "ok", or every problem joined with "; " (each names its instance and, if any, the HealthVault status) */
  readonly detail: string;
  readonly problems: readonly ReadinessProblem[];
}

export function instancesReadiness(registry: Pick<InstanceRegistry, 'readinessProblems'>): InstancesReadiness {
  const problems = registry.readinessProblems();
  return { ok: problems.length === 0, detail: problems.length === 0 ? 'ok' : problems.map((p) => `${p.code}: ${p.message}`).join('; '), problems };
}
