// The short form of `npm run drill` (issue 8, item 4) for CI: drill a — kill -9 the gateway
// process (dist/server.js, built by npm test) under a small load and restart it on the same port
// with the same topics — on a private broker. Asserts the drill's invariants on the real counts:
// every batch in the simulator's delivery log ends delivered (its retries deliver what the kill
// refused), and every notification the simulator saw 200 for is in the topic.
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cleanup } from '../../bench/drill/cleanup.ts';
import { DEFAULTS, runDrill, verdictLine } from '../../bench/drill/drills.ts';
import { ROOT } from '../../bench/drill/gateway-process.ts';

t.test('kill -9 the gateway under load and restart it: no acknowledged notification lost', async (t) => {
  const runDir = join(ROOT, '.cache/drill-run', `ci-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(runDir, { recursive: true });
  const cleanup = new Cleanup((m) => t.comment(m));
  t.teardown(() => cleanup.run());
  const r = await runDrill('a', {
    ...DEFAULTS,
    ratePerInstance: 60,
    warmS: 2,
    afterS: 2,
    kills: 1,
    downS: 1,
    settleWithinMs: 40_000,
    boundMs: 110_000,
    cleanup,
    log: (m) => t.comment(m),
    runDir,
  });
  t.comment(verdictLine(r));
  t.comment(`gateway logs: ${r.gatewayLogs.join(', ')}`);
  t.equal(r.error, undefined, 'the drill ran to the end');
  const v = r.verification;
  if (!v) return t.fail('no verification');
  t.ok(r.changes >= 300, `${r.changes} thing changes made`);
  t.ok(v.notificationsDelivered >= 200, `${v.notificationsDelivered} notifications acknowledged (200) by the gateway`);
  t.equal(r.gatewayExits.filter((e) => e === 'SIGKILL').length, 1, 'one gateway process died of SIGKILL (a failed first start, retried once, would be an "exit 1" before it)');
  t.ok(r.phases.kill1ToReadyMs! > 0, `restarted and ready ${r.phases.kill1ToReadyMs} ms after the kill`);
  t.ok(v.retriedBatches > 0 && v.maxAttempts > 1, `${v.retriedBatches} batches needed retries (max ${v.maxAttempts} attempts): the kill hit the load`);
  t.same([v.batchesPending, v.batchesFailed], [0, 0], `all ${v.batches} batches delivered by the simulator's retries`);
  t.equal(v.recordsRead, v.recordsInTopic, `read back all ${v.recordsInTopic} records`);
  t.equal(v.missing, 0, 'every acknowledged notification is in the topic');
  t.same(v.missingSample, []);
  t.equal(v.missingThings, 0, 'every acknowledged thing id is in the topic');
  t.equal(v.unexpected, 0, 'no record the simulator never got a 200 for (beyond duplicates of acknowledged ones)');
  t.equal(v.mistagged, 0, 'instance tags consistent');
  t.ok(v.recordsInTopic >= v.notificationsDelivered, `${v.recordsInTopic} records ≥ ${v.notificationsDelivered} notifications (${v.duplicates} duplicates, at-least-once)`);
  t.equal(v.recordsInTopic, v.notificationsDelivered + v.duplicates, 'records = acknowledged notifications + duplicates');
  t.ok(r.phases.controlPlaneBackMs !== undefined, 'the restarted gateway leads and has every subscription in sync');
  t.same(r.failures, [], 'no broken invariant');
});
