// Rates and latency quantiles from the gateway's own prom-client counters (real registry, no
// Prometheus), sampled only when asked.
import t from 'tap';
import { createMetrics } from '../../src/metrics.ts';
import { quantile, readCounters, TrafficRates } from '../../src/status/traffic-rates.ts';

t.test('quantile interpolates inside the bucket like histogram_quantile', async (t) => {
  const bounds = [0.01, 0.1, 1];
  t.equal(quantile(0.5, bounds, [0, 0, 0, 0]), null, 'no observation: no quantile');
  t.equal(quantile(0.5, bounds, [10, 10, 10, 10]), 0.005, 'half of the first bucket');
  t.ok(Math.abs(quantile(0.5, bounds, [0, 10, 10, 10])! - 0.055) < 1e-12, 'between the bounds of the second bucket');
  t.equal(quantile(0.99, bounds, [0, 0, 0, 10]), 1, 'in +Inf: the highest finite bound');
});

t.test('rates over the samples taken by calls, per instance, bounded and windowed', async (t) => {
  const m = createMetrics();
  let now = 1_000_000;
  const rates = new TrafficRates({ read: (at) => readCounters(m, at), now: () => now });
  m.notificationsReceived.inc({ instance: '1' }, 5);
  const first = await rates.report();
  t.equal(first.windowSeconds, null, 'the first call has no earlier sample: no rate');
  t.equal(first.instances.get('1')?.notificationsPerSecond, null);
  t.equal(first.instances.get('1')?.totals.received, 5);

  now += 10_000;
  m.notificationsReceived.inc({ instance: '1' }, 40);
  m.notificationsProduced.inc({ instance: '1' }, 30);
  m.notificationsRejected.inc({ instance: '1', reason: 'HVG_ERR_AUTH_BAD_SIGNATURE' }, 5);
  m.notificationsRejected.inc({ instance: '1', reason: 'HVG_ERR_RATE_LIMITED' }, 5);
  for (let i = 0; i < 30; i++) m.produceLatency.observe({ instance: '1' }, i < 15 ? 0.003 : 0.04);
  const second = await rates.report();
  const one = second.instances.get('1')!;
  t.equal(second.windowSeconds, 10);
  t.same([one.notificationsPerSecond, one.producedPerSecond, one.rejectionsPerSecond], [4, 3, 1], 'deltas over the window, every rejection reason summed');
  t.ok(one.produceLatencyP50Ms! > 2 && one.produceLatencyP50Ms! <= 5, `p50 in the 2–5 ms bucket: ${one.produceLatencyP50Ms}`);
  t.ok(one.produceLatencyP99Ms! > 20 && one.produceLatencyP99Ms! <= 50, `p99 in the 20–50 ms bucket: ${one.produceLatencyP99Ms}`);

  // called very often: samples are at least a second apart, so the ring stays bounded
  for (let i = 0; i < 500; i++) {
    now += 100;
    await rates.report();
  }
  now += 70_000;
  const gap = await rates.report();
  t.equal(gap.windowSeconds, 70, 'after a pause the window says how long it really is');
  t.equal(gap.instances.get('1')?.notificationsPerSecond, 0, 'nothing new since');
  for (let i = 0; i < 30; i++) {
    now += 5_000;
    m.notificationsReceived.inc({ instance: '1' }, 10);
    const r = await rates.report();
    if (i >= 12) t.ok(r.windowSeconds! >= 55 && r.windowSeconds! <= 60 && r.instances.get('1')?.notificationsPerSecond === 2, `polled every 5 s: a window within the last minute (${r.windowSeconds} s), 2/s`);
  }
  now += 3_600_000;
  m.notificationsReceived.inc({ instance: '1' }, 100);
  t.equal((await rates.report()).windowSeconds, null, 'after an hour nobody asked, no rate over an hour is passed off as the last minute');
});
