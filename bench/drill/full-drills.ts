// The drills `npm run drill -- --full` adds to a, b, c (issue 18):
//   d  SIGTERM under load: the gateway drains (every POST it has read is answered, 200 after the
//      Kafka ack or 503), exits 0 by itself, and is started again on the same port and topics
//   e  two replicas, kill -9 the leader under load: the other replica (which takes the
//      notifications meanwhile) leads and completes a pass over every instance within 15 s, and
//      no instance holds a duplicate of our subscriptions before or after
import { join } from 'node:path';
import { ADMIN_TOKEN } from '../../support/fixtures.ts';
import { freePort } from '../lib/proc.ts';
import { sleep, until } from './cleanup.ts';
import type { Ctx } from './drills.ts';
import { flowing, inFlight } from './drills.ts';
import { GatewayProcess } from './gateway-process.ts';
import { INSTANCES, PUBLIC_BASE } from './stack.ts';
import { allBatches } from './verify.ts';

/** The promise of the README: a new leader's first pass within this after the old one died. */
export const FAILOVER_BOUND_MS = 15_000;

const ms = (since: number): number => Math.round(Date.now() - since);
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Where a gateway process serves the admin API (one place to change when it gets a port of its own). */
export const adminBase = (g: GatewayProcess): string => g.adminUrl;

interface Consistency {
  leader: boolean;
  consistent: boolean;
  reconciler: { instanceId: string; lastPassAt: string | null }[];
}

async function consistency(g: GatewayProcess): Promise<Consistency | null> {
  try {
    const res = await fetch(`${adminBase(g)}/v1/consistency`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(3000) });
    return res.status === 200 ? ((await res.json()) as Consistency) : null;
  } catch {
    return null;
  }
}

/** Our subscriptions per instance: how many, and how many beyond one per callback URL. */
export function subscriptionCounts(c: Ctx): { perInstance: Record<string, number>; duplicates: number } {
  const perInstance: Record<string, number> = {};
  let duplicates = 0;
  for (const id of INSTANCES) {
    const ours = c.stack.sim.instance(id).listSubscriptions().filter((s) => s.url.startsWith(`${PUBLIC_BASE}/notifications/`));
    perInstance[id] = ours.length;
    duplicates += ours.length - new Set(ours.map((s) => s.url)).size;
  }
  return { perInstance, duplicates };
}

export async function drillD(c: Ctx): Promise<void> {
  const { stack, o, phases } = c;
  await flowing(stack, 'before SIGTERM');
  let open = 0;
  try {
    open = await until('a POST in flight', () => inFlight(stack), (n) => n > 0, 3000, 1);
  } catch {
    c.notes.push('no POST was in flight at SIGTERM');
  }
  const pid = stack.gateway.pid;
  const termAt = Date.now();
  c.faultAt = termAt;
  stack.log(`d: SIGTERM gateway pid ${pid} with ${open} POSTs in flight, ${c.load.changes} changes made`);
  await stack.gateway.stop(30_000);
  const exitAt = Date.now();
  phases.termInFlight = open;
  phases.termToExitMs = exitAt - termAt;
  const exit = stack.gateway.exits.at(-1) ?? 'unknown';
  phases.termExitCode = exit === 'exit 0' ? 0 : -1;
  if (exit !== 'exit 0') c.failures.push(`the gateway did not drain and exit 0 on SIGTERM: it ended with ${exit}`);
  // every attempt that was open at SIGTERM: answered with a status, or cut off (error)?
  let answered200 = 0;
  let answered503 = 0;
  let cut = 0;
  for (const b of allBatches(stack.sim, INSTANCES)) {
    for (const h of b.history) {
      const start = Date.parse(h.at);
      if (start > termAt || start + h.durationMs < termAt) continue;
      if (h.status === 200) answered200++;
      else if (h.status === 503) answered503++;
      else if (h.status === undefined) cut++;
    }
  }
  Object.assign(phases, { termOpen200: answered200, termOpen503: answered503, termOpenCut: cut });
  stack.log(`d: exited (${exit}) ${(phases.termToExitMs / 1000).toFixed(1)} s after SIGTERM; POSTs open at SIGTERM: ${answered200} answered 200, ${answered503} answered 503, ${cut} cut off`);
  await sleep(o.downS * 1000);
  const { readyMs } = await stack.gateway.start();
  c.recoveries.push(Date.now());
  phases.restartReadyMs = Math.round(readyMs);
  await flowing(stack, 'after the restart');
}

export async function drillE(c: Ctx): Promise<void> {
  const { stack, phases } = c;
  const a = stack.gateway;
  const b = new GatewayProcess({ port: await freePort(), adminPort: await freePort(), env: a.env, logPrefix: join(c.o.runDir, 'gateway-e-replica'), cleanup: c.o.cleanup });
  c.replicas.push(b);
  const { readyMs } = await b.start();
  stack.log(`e: second replica pid ${b.pid} ready on ${b.url} in ${(readyMs / 1000).toFixed(1)} s`);
  // the group settles after the second member joined: exactly one leads, and it has passed
  const settled = await until(
    'exactly one replica leads and reports every subscription in sync',
    async () => [await consistency(a), await consistency(b)] as const,
    ([x, y]) => x !== null && y !== null && x.leader !== y.leader && (x.leader ? x : y).consistent,
    45_000,
    200,
  );
  const [leader, survivor] = settled[0]!.leader ? [a, b] : [b, a];
  phases.leaderWasFirstReplica = leader === a ? 1 : 0;
  const before = subscriptionCounts(c);
  Object.assign(phases, Object.fromEntries(Object.entries(before.perInstance).map(([id, n]) => [`subsBefore.${id}`, n])), { duplicatesBefore: before.duplicates });
  // the survivor takes the notifications from now on, so the load goes on through the failover
  stack.sim.setDeliveryRewrites([{ from: `${PUBLIC_BASE}/`, to: `${survivor.url}/` }]);
  await flowing(stack, 'through the replica that will survive');
  const pid = leader.pid;
  const killAt = Date.now();
  c.faultAt = killAt;
  await leader.kill9();
  stack.log(`e: kill -9 the leader, pid ${pid} (${leader.url}); ${c.load.changes} changes made`);
  let leadsAt = 0;
  try {
    const st = await until(
      "the survivor's first completed pass over every instance",
      () => consistency(survivor),
      (s) => {
        if (s?.leader && leadsAt === 0) leadsAt = Date.now();
        return s !== null && s.leader && s.reconciler.length === INSTANCES.length && s.reconciler.every((r) => r.lastPassAt !== null && Date.parse(r.lastPassAt) >= killAt);
      },
      60_000,
      100,
    );
    // the passes' own timestamps (same clock), not the polling
    phases.failoverFirstPassMs = Math.max(...st!.reconciler.map((r) => Date.parse(r.lastPassAt!))) - killAt;
    phases.failoverLeadsMs = leadsAt - killAt;
    stack.log(`e: the survivor's first pass over every instance ended ${(phases.failoverFirstPassMs / 1000).toFixed(1)} s after the kill (seen leading by polling after ${(phases.failoverLeadsMs / 1000).toFixed(1)} s)`);
    if (phases.failoverFirstPassMs > FAILOVER_BOUND_MS) c.failures.push(`failover took ${phases.failoverFirstPassMs} ms, more than ${FAILOVER_BOUND_MS} ms`);
  } catch (err) {
    c.failures.push(`no failover: ${errText(err)}`);
  }
  try {
    await until('the survivor reports every subscription in sync', () => consistency(survivor), (s) => s !== null && s.leader && s.consistent, 45_000, 200);
    phases.survivorInSyncMs = ms(killAt);
  } catch (err) {
    c.failures.push(`control plane did not recover on the survivor: ${errText(err)}`);
  }
  const after = subscriptionCounts(c);
  Object.assign(phases, Object.fromEntries(Object.entries(after.perInstance).map(([id, n]) => [`subsAfter.${id}`, n])), { duplicatesAfter: after.duplicates });
  if (before.duplicates + after.duplicates > 0) c.failures.push(`duplicate subscriptions: ${before.duplicates} before, ${after.duplicates} after the failover`);
  if (JSON.stringify(before.perInstance) !== JSON.stringify(after.perInstance)) c.failures.push(`subscriptions per instance changed: ${JSON.stringify(before.perInstance)} → ${JSON.stringify(after.perInstance)}`);
  c.recoveries.push(Date.now());
}
