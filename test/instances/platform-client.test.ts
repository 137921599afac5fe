// The platform client against the real simulator's fault switches: bounded retries of transient
// failures only, coded errors naming the instance, isolation between instances, abort, bodies.
import t from 'tap';
import type { HvgError } from '../../src/errors.ts';
import { discoverySettings, registry, simCount, startSim, write } from './helpers.ts';

const LIST = 'GetEventSubscriptions';
const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as HvgError);

t.test('HTTP 5xx is retried with backoff and then succeeds', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  sim.instance('2').setFaults({ platform5xx: 2 });
  t.same(await r.platform('2')!.listSubscriptions(), []);
  t.equal(simCount(sim, '2', '(any)', 'http500'), 2, 'two 500s were absorbed by retries');
});

t.test('retries are bounded; the error says whether a retry can help and names the instance', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim, { HV_MAX_RETRIES: '2' }));
  await r.refresh();
  sim.instance('2').setFaults({ platform5xx: true });
  const e5 = await fail(r.platform('2')!.listSubscriptions());
  t.equal(e5?.code, 'HVG_ERR_INSTANCE_UNAVAILABLE');
  t.equal(e5?.retriable, true);
  t.match(e5?.message, /^instance "2" \(EU\) at http:\/\/127\.0\.0\.1:\d+\/platform\/wildcat\.ashx: HTTP 500: simulated platform failure/);
  t.same([e5?.details?.instanceId, e5?.details?.attempts, e5?.details?.method], ['2', 3, LIST]);
  t.equal(simCount(sim, '2', '(any)', 'http500'), 3, '1 + HV_MAX_RETRIES attempts, no more');

  sim.instance('2').setFaults({ platform5xx: false, down: true });
  const down = await fail(r.platform('2')!.listSubscriptions());
  t.equal(down?.code, 'HVG_ERR_INSTANCE_UNREACHABLE');
  t.equal(down?.retriable, true);
  t.match(down?.message, /^instance "2" \(EU\) at .*: (ECONNRESET|UND_ERR_SOCKET|EPIPE)/);
  t.equal(down?.details?.attempts, 3);
  t.equal(r.instances().find((i) => i.id === '2')?.reachable, false);
  t.equal(r.instances().find((i) => i.id === '2')?.lastError?.code, 'HVG_ERR_INSTANCE_UNREACHABLE');

  sim.instance('2').setFaults({ down: false });
  const notFound = await fail(r.platform('2')!.update('00000000-0000-4000-8000-000000000001', write('gone')));
  t.equal(notFound?.code, 'HVG_ERR_HV_STATUS', 'a HealthVault refusal keeps the codec code');
  t.equal(notFound?.retriable, false);
  t.equal(notFound?.details?.hvStatus, 132);
  t.match(notFound?.message, /^instance "2" \(EU\): HealthVault status 132 SUBSCRIPTION_NOT_FOUND/);
  t.equal(simCount(sim, '2', 'UpdateEventSubscription', '132'), 1, 'a non-transient status is not retried');
  t.equal(r.instances().find((i) => i.id === '2')?.reachable, true);
});

t.test('unsubscribing a subscription the platform no longer knows counts as deleted', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  const eu = r.platform('2')!;
  const id = await eu.subscribe(write('once'));
  await eu.unsubscribe(id);
  t.equal(await eu.unsubscribe(id), undefined, 'the second unsubscribe resolves: gone is what was asked');
  t.equal(simCount(sim, '2', 'UnsubscribeToEvent', '132'), 1, 'the platform was asked and answered 132, once');
  t.same(await eu.listSubscriptions(), []);
  const live = await eu.subscribe(write('twice'));
  sim.instance('2').setFaults({ platform5xx: true });
  const other = await fail(eu.unsubscribe(live));
  t.equal(other?.code, 'HVG_ERR_INSTANCE_UNAVAILABLE', 'any other failure still rejects');
});

t.test('SubscribeToEvent is not resent after an ambiguous failure (no duplicate subscription)', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  sim.instance('2').setFaults({ platform5xx: 1 });
  const err = await fail(r.platform('2')!.subscribe(write('once')));
  t.same([err?.code, err?.retriable, err?.details?.attempts], ['HVG_ERR_INSTANCE_UNAVAILABLE', true, 1], 'surfaced at once, still retriable for the caller');
  t.equal(simCount(sim, '2', '(any)', 'http500'), 1);
  sim.instance('2').setFaults({ platform5xx: 1 });
  t.same(await r.platform('2')!.listSubscriptions(), [], 'reads are resent');
});

t.test('a slow or down instance does not delay calls to the other one', async (t) => {
  const sim = await startSim(t);
  // per-attempt deadline 1 s, 2 retries: a call to the slow instance takes about 3 s
  const r = registry(t, discoverySettings(sim, { HV_REQUEST_TIMEOUT_MS: '1000', HV_POOL_CONNECTIONS: '4' }));
  await r.refresh();
  const us = r.platform('1')!;
  const eu = r.platform('2')!;
  await us.listSubscriptions();

  for (const fault of [{ slowMs: 1_500 }, { down: true }] as const) {
    sim.instance('2').setFaults(fault);
    const stuck = Array.from({ length: 10 }, () => fail(eu.listSubscriptions()));
    const started = performance.now();
    const timings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await us.listSubscriptions();
      timings.push(performance.now() - t0);
    }
    const total = performance.now() - started;
    // generous bounds: a delay caused by the other instance would cost ≥ 1 s per call
    t.ok(total < 2_000, `${JSON.stringify(fault)}: 20 calls to the healthy instance took ${total.toFixed(0)} ms`);
    t.ok(Math.max(...timings) < 500, `${JSON.stringify(fault)}: slowest healthy call ${Math.max(...timings).toFixed(0)} ms`);
    const errors = await Promise.all(stuck);
    t.ok(errors.every((e) => e?.code === 'HVG_ERR_INSTANCE_UNREACHABLE' && e.details?.instanceId === '2'), 'the sick instance fails with its own coded error');
    if ('slowMs' in fault) t.match(errors[0]?.message, /no complete answer within 1000 ms/);
    sim.instance('2').setFaults({ slowMs: 0, down: false });
  }
});

t.test('a caller can abort; the abort is not retried and not blamed on the instance', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim, { HV_REQUEST_TIMEOUT_MS: '10000' }));
  await r.refresh();
  sim.instance('2').setFaults({ slowMs: 1_000 });
  const t0 = performance.now();
  const err = await fail(r.platform('2')!.listSubscriptions(AbortSignal.timeout(150)));
  const took = performance.now() - t0;
  t.equal((err as unknown as Error)?.name, 'TimeoutError', 'rejects with the signal reason');
  t.ok(took < 1_500, `returned after ${took.toFixed(0)} ms`);
  t.equal(r.instances().find((i) => i.id === '2')?.lastError, null, 'an abort is not an instance error');
  const controller = new AbortController();
  controller.abort(new Error('gone'));
  await t.rejects(r.platform('1')!.listSubscriptions(controller.signal), { message: 'gone' });
});

t.test('every response body is consumed: one connection survives a run of error answers', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim, { HV_POOL_CONNECTIONS: '1', HV_MAX_RETRIES: '0' }));
  await r.refresh();
  sim.instance('2').setFaults({ platform5xx: 5 });
  for (let i = 0; i < 5; i++) t.equal((await fail(r.platform('2')!.listSubscriptions()))?.code, 'HVG_ERR_INSTANCE_UNAVAILABLE');
  t.same(await r.platform('2')!.listSubscriptions(), [], 'the single socket is still usable');
});
