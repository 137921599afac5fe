// Per-instance notification rates and produce latency over the last minute, computed from the
// gateway's own Prometheus counters (no Prometheus server needed). Samples are taken only when
// someone asks (GET /v1/status): no timer, nothing on the notification path, so the feature costs
// nothing while nobody looks. The first call has no earlier sample and reports no rate; a page
// that refreshes every few seconds has a window after its second call, growing to a minute.
import type { Metrics } from '../metrics.ts';

export interface InstanceCounters {
  /** notification POSTs received (hv_gateway_notification_requests_total) */
  received: number;
  /** notification POSTs refused, every reason */
  rejected: number;
  /** notifications written to Kafka and acknowledged */
  produced: number;
  /** cumulative produce-latency bucket counts, same order as `bounds`, +Inf last */
  buckets: number[];
}

export interface CounterSnapshot {
  at: number;
  /** finite upper bounds of the latency histogram, in seconds */
  bounds: number[];
  instances: Map<string, InstanceCounters>;
}

export interface InstanceTraffic {
  notificationsPerSecond: number | null;
  rejectionsPerSecond: number | null;
  producedPerSecond: number | null;
  produceLatencyP50Ms: number | null;
  produceLatencyP99Ms: number | null;
  totals: { received: number; rejected: number; produced: number };
}

export interface TrafficReport {
  /** seconds between the oldest sample kept and now; null before a second sample exists */
  windowSeconds: number | null;
  instances: Map<string, InstanceTraffic>;
}

const empty = (n: number): InstanceCounters => ({ received: 0, rejected: 0, produced: 0, buckets: new Array<number>(n + 1).fill(0) });

/** Read the counters this report needs (prom-client keeps them in memory: a few map reads). */
export async function readCounters(m: Metrics, now: number): Promise<CounterSnapshot> {
  const [received, rejected, produced, latency] = await Promise.all([m.notificationsReceived.get(), m.notificationsRejected.get(), m.notificationsProduced.get(), m.produceLatency.get()]);
  // histogram values carry an `le` label next to the declared ones (prom-client types omit it)
  const le = (labels: object): string | undefined => (labels as { le?: string | number }).le?.toString();
  const bucketValues = latency.values.filter((v) => v.metricName?.endsWith('_bucket'));
  const bounds = [...new Set(bucketValues.filter((v) => le(v.labels) !== '+Inf').map((v) => Number(le(v.labels))))].sort((a, b) => a - b);
  const instances = new Map<string, InstanceCounters>();
  const of = (labels: Partial<Record<string, string | number>>): InstanceCounters => {
    const id = String(labels.instance ?? 'unknown');
    let c = instances.get(id);
    if (c === undefined) instances.set(id, (c = empty(bounds.length)));
    return c;
  };
  for (const v of received.values) of(v.labels).received += v.value;
  for (const v of rejected.values) of(v.labels).rejected += v.value;
  for (const v of produced.values) of(v.labels).produced += v.value;
  for (const v of bucketValues) {
    const i = le(v.labels) === '+Inf' ? bounds.length : bounds.indexOf(Number(le(v.labels)));
    if (i >= 0) of(v.labels).buckets[i] = v.value;
  }
  return { at: now, bounds, instances };
}

/**
 * Quantile from cumulative bucket-count deltas, interpolated linearly inside the bucket (the
 * way Prometheus' histogram_quantile does); in the +Inf bucket it answers the highest bound.
 */
export function quantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    if (cumulative[i]! >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : cumulative[i - 1]!;
      const inBucket = cumulative[i]! - below;
      return inBucket <= 0 ? bounds[i]! : lower + (bounds[i]! - lower) * ((rank - below) / inBucket);
    }
  }
  return bounds[bounds.length - 1] ?? null;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Rates between two snapshots of the same process (counters only grow; a missing baseline is 0). */
function traffic(base: CounterSnapshot | undefined, now: CounterSnapshot): TrafficReport {
  const seconds = base === undefined ? 0 : (now.at - base.at) / 1000;
  const instances = new Map<string, InstanceTraffic>();
  for (const [id, c] of now.instances) {
    const b = base?.instances.get(id) ?? empty(now.bounds.length);
    const rate = (x: number, y: number) => (seconds > 0 ? round(Math.max(0, x - y) / seconds, 2) : null);
    const delta = c.buckets.map((v, i) => Math.max(0, v - (b.buckets[i] ?? 0)));
    const ms = (q: number) => {
      const s = seconds > 0 ? quantile(q, now.bounds, delta) : null;
      return s === null ? null : round(s * 1000, 2);
    };
    instances.set(id, {
      notificationsPerSecond: rate(c.received, b.received),
      rejectionsPerSecond: rate(c.rejected, b.rejected),
      producedPerSecond: rate(c.produced, b.produced),
      produceLatencyP50Ms: ms(0.5),
      produceLatencyP99Ms: ms(0.99),
      totals: { received: c.received, rejected: c.rejected, produced: c.produced },
    });
  }
  return { windowSeconds: seconds > 0 ? round(seconds, 1) : null, instances };
}

/** A bounded ring of snapshots taken on demand; answers rates over (at most) the last window. */
export class TrafficRates {
  readonly #read: (now: number) => Promise<CounterSnapshot>;
  readonly #windowMs: number;
  readonly #minGapMs: number;
  readonly #now: () => number;
  #samples: CounterSnapshot[] = [];

  constructor(opts: { read: (now: number) => Promise<CounterSnapshot>; windowMs?: number; minGapMs?: number; now?: () => number }) {
    this.#read = opts.read;
    this.#windowMs = opts.windowMs ?? 60_000;
    // at most 2 × windowMs / minGapMs + 1 samples are kept, however often the endpoint is called
    this.#minGapMs = opts.minGapMs ?? 1000;
    this.#now = opts.now ?? Date.now;
  }

  async report(): Promise<TrafficReport> {
    const current = await this.#read(this.#now());
    const cutoff = current.at - this.#windowMs;
    // after a long pause nobody asked: a baseline that old would not say "the last minute"
    while (this.#samples.length > 0 && this.#samples[0]!.at < cutoff - this.#windowMs) this.#samples.shift();
    // the oldest sample inside the window, else the newest one just before it
    const inside = this.#samples.find((x) => x.at >= cutoff && x.at < current.at);
    const before = this.#samples.filter((x) => x.at < cutoff).at(-1);
    const base = inside ?? before;
    const last = this.#samples.at(-1);
    if (last === undefined || current.at - last.at >= this.#minGapMs) this.#samples.push(current);
    return traffic(base, current);
  }
}
