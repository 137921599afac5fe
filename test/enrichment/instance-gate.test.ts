// The per-instance gate: never more calls in flight than its concurrency, a retriable failure
// backs every caller of that instance off (and only that instance), success clears the count.
import t from 'tap';
import { InstanceGate } from '../../src/enrichment/instance-gate.ts';

const gate = (concurrency: number) => new InstanceGate({ concurrency, ratePerSecond: 0, retryBaseMs: 50, retryMaxMs: 100 });

t.test('at most `concurrency` calls in flight; every call runs', async (t) => {
  const g = gate(3);
  let inFlight = 0;
  let most = 0;
  const release: (() => void)[] = [];
  const calls = Array.from({ length: 10 }, () =>
    g.run(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
    }),
  );
  // let the first three start, then release one at a time until all ten ran
  let done = 0;
  for (const c of calls) void c.then(() => done++);
  while (done < 10) {
    await new Promise((r) => setImmediate(r));
    if (g.status().inFlight > 3) t.fail('more than 3 in flight');
    release.shift()?.();
  }
  await Promise.all(calls);
  t.equal(most, 3, 'the limit was reached and never passed');
  t.same(g.status(), { inFlight: 0, waiting: 0, failures: 0, backoffUntil: null });
});

t.test('a failure backs this gate off; another gate is untouched; success resets the count', async (t) => {
  const now = 1_000_000;
  const a = new InstanceGate({ concurrency: 1, ratePerSecond: 0, retryBaseMs: 10_000, retryMaxMs: 10_000, now: () => now });
  const b = new InstanceGate({ concurrency: 1, ratePerSecond: 0, retryBaseMs: 10_000, retryMaxMs: 10_000, now: () => now });
  a.failed();
  a.failed();
  t.equal(a.status().failures, 2);
  t.equal(b.status().backoffUntil, null, 'the other instance does not wait');
  t.equal(await b.run(async () => 'ran'), 'ran');
  a.succeeded();
  t.equal(a.status().failures, 0);
});

t.test('a waiting caller leaves when its signal aborts', async (t) => {
  const g = gate(1);
  let free!: () => void;
  const busy = g.run(() => new Promise<void>((r) => (free = r)));
  const ac = new AbortController();
  const waiting = g.run(async () => 'never', ac.signal);
  await new Promise((r) => setImmediate(r));
  t.equal(g.status().waiting, 1);
  ac.abort(new Error('closing'));
  await t.rejects(waiting, /closing/);
  t.equal(g.status().waiting, 0);
  free();
  await busy;
});

t.test('ENRICH_RATE_LIMIT: calls are spaced, never started together (timers never fire early)', async (t) => {
  for (const [rate, expected] of [[20, 1], [0, 3]] as const) {
    const g = new InstanceGate({ concurrency: 10, ratePerSecond: rate, retryBaseMs: 50, retryMaxMs: 100 });
    let started = 0;
    let afterFirst = -1;
    await Promise.all([0, 1, 2].map((i) => g.run(async () => {
      started++;
      if (i === 0) {
        // one turn of the event loop later: unlimited, the others started in the same turn; at
        // 20/s the next start is due 50 ms later, and a timer never fires early
        await new Promise((r) => setImmediate(r));
        afterFirst = started;
      }
    })));
    t.equal(afterFirst, expected, `rate ${rate || 'unlimited'}: ${expected} started by one turn after the first`);
    t.equal(started, 3, 'every call ran');
  }
});
