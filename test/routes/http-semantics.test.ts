// Issue 18, item 2: conditional GETs answer 304 while the ETag matches (and only then: the ETag
// also covers the live per-instance status), If-Match takes that ETag; /v1/consistency's
// instances[].lastPassAt is the reconciler's own lastPassAt, moving with every pass.
import t from 'tap';
import { eventually, GLUCOSE, startGateway, startSim } from '../helpers/stack.ts';
import { WEIGHT } from '../../support/fixtures.ts';

t.test('GET with If-None-Match: 304 while nothing changed, 200 once the status or the spec changed', async (t) => {
  const sim = await startSim(t);
  // the platform answers slowly, so the first GET surely sees the subscription pending
  sim.instance('2').setFaults({ slowMs: 1500 });
  const gw = await startGateway(t, sim);
  const put = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  t.equal(put.status, 201);
  const first = await gw.admin('GET', '/v1/subscriptions/glucose');
  const pendingTag = first.headers.etag as string;
  t.equal(first.json.etag, pendingTag, 'the body names the same ETag as the header');
  t.ok(first.json.status.some((s: { state: string }) => s.state !== 'in-sync'), 'not in sync yet (instance 2 answers slowly)');

  sim.instance('2').setFaults({ slowMs: 0 });
  const synced = await eventually('in sync', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  const tag = synced.headers.etag as string;
  t.not(tag, pendingTag, 'the ETag changed with the status');
  const stale = await gw.admin('GET', '/v1/subscriptions/glucose', undefined, { 'if-none-match': pendingTag });
  t.equal(stale.status, 200, 'an ETag from before the sync does not get 304');

  for (const header of [tag, `W/${tag}`, `"other", ${tag}`, '*']) {
    const r = await gw.admin('GET', '/v1/subscriptions/glucose', undefined, { 'if-none-match': header });
    t.equal(r.status, 304, `If-None-Match: ${header} → 304`);
    t.equal(r.json, null, 'no body');
    t.equal(r.headers.etag, tag, 'the ETag is repeated');
  }
  t.equal((await gw.admin('GET', '/v1/subscriptions/glucose', undefined, { 'if-none-match': '"glucose-r0.x"' })).status, 200, 'another ETag → 200');

  // If-Match takes the ETag GET gave (the status part does not matter for a write)
  const update = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE, WEIGHT] }, { 'if-match': pendingTag });
  t.equal(update.status, 200, 'If-Match with the ETag of the same revision → 200');
  t.match(update.headers.etag, /^"glucose-r2\./);
  const afterEdit = await gw.admin('GET', '/v1/subscriptions/glucose', undefined, { 'if-none-match': tag });
  t.equal(afterEdit.status, 200, 'a new revision → 200');
  const staleWrite = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] }, { 'if-match': tag });
  t.same([staleWrite.status, staleWrite.json.code], [412, 'HVG_ERR_PRECONDITION_FAILED'], 'If-Match with the previous revision → 412');
});

t.test('/v1/consistency: instances[].lastPassAt is the time of the last pass, as in reconciler[]', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim, { RECONCILE_INTERVAL_MS: '1000' });
  await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  const consistency = async () => (await gw.admin('GET', '/v1/consistency')).json as { consistent: boolean; instances: { instanceId: string; lastPassAt: string | null }[]; reconciler: { instanceId: string; lastPassAt: string | null }[] };
  const before = await eventually('consistent', consistency, (c) => c.consistent && c.instances.every((i) => i.lastPassAt !== null));
  // idle passes: nothing changes in the instances, the interval runs passes every second
  const passedAgain = (c: Awaited<ReturnType<typeof consistency>>) =>
    c.reconciler.every((r) => r.lastPassAt !== null && Date.parse(r.lastPassAt) > Date.parse(before.instances.find((i) => i.instanceId === r.instanceId)!.lastPassAt!) + 1500);
  await eventually('two more passes over every instance', consistency, passedAgain);
  const after = await eventually('the report and the reconciler agree', consistency, (c) => passedAgain(c) && c.instances.every((i) => i.lastPassAt === c.reconciler.find((r) => r.instanceId === i.instanceId)?.lastPassAt));
  for (const i of after.instances) {
    const was = before.instances.find((b) => b.instanceId === i.instanceId)!;
    t.ok(Date.parse(i.lastPassAt!) > Date.parse(was.lastPassAt!), `instance ${i.instanceId}: lastPassAt moved from ${was.lastPassAt} to ${i.lastPassAt} with idle passes`);
  }
});
