// The one backoff formula and the bounded waits every retry loop uses (src/retry.ts).
import t from 'tap';
import { backoffDelay, settleWithin, sleep, withTimeout } from '../src/retry.ts';

t.test('backoff: doubles from base per retry, capped, jittered as asked', async (t) => {
  const o = { baseMs: 100, maxMs: 1000 };
  t.same([1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, { ...o, jitter: 'none' })), [100, 200, 400, 800, 1000, 1000], 'ceiling: base·2^(attempt-1), at most max');
  t.equal(backoffDelay(3, o, () => 0.5), 200, 'full jitter (the default): random share of the ceiling');
  t.equal(backoffDelay(3, o, () => 0), 0, 'full jitter may retry at once');
  t.equal(backoffDelay(3, { ...o, jitter: 'equal' }, () => 0), 200, 'equal jitter: at least half the ceiling');
  t.equal(backoffDelay(3, { ...o, jitter: 'equal' }, () => 1), 400, 'equal jitter: at most the ceiling');
  t.equal(backoffDelay(0, { ...o, jitter: 'none' }), 100, 'attempt 0 counts as the first retry');
  t.equal(backoffDelay(100_000, { baseMs: 0.5, maxMs: 7, jitter: 'none' }), 7, 'a long outage stays at the cap (no Infinity, no NaN)');
});

t.test('withTimeout: the value in time, else the caller\'s error', async (t) => {
  t.equal(await withTimeout(Promise.resolve(7), 1000, () => new Error('late')), 7);
  await t.rejects(withTimeout(new Promise(() => {}), 5, () => new Error('late')), { message: 'late' });
  await t.rejects(withTimeout(Promise.reject(new Error('own')), 1000, () => new Error('late')), { message: 'own' }, 'its own failure wins');
});

t.test('settleWithin: true once settled (rejections too), false when the time ran out; never rejects', async (t) => {
  t.equal(await settleWithin(Promise.resolve(), 1000), true);
  t.equal(await settleWithin(Promise.reject(new Error('x')), 1000), true);
  t.equal(await settleWithin(new Promise(() => {}), 5), false);
});

t.test('sleep: an abort cuts it short with the signal\'s reason', async (t) => {
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(p, { message: 'stop' });
  await t.rejects(sleep(1, AbortSignal.abort(new Error('already'))), { message: 'already' });
});
