// HTTP load generators, run inside the orchestrator (pinned to the load core by run.sh).
//
// closedLoop: autocannon (programmatic), N connections each sending the next request as soon as
//   the previous answer arrived → the maximum rate. Latencies are autocannon's (ms).
// Open loop is NOT autocannon's -R/overallRate: with it each connection sends back to back until
//   it has used its per-second quota, then pauses until the next second (bursts at every second
//   boundary), and its "coordinated omission correction" uses an expected interval of
//   ceil(1/rate) = 1 ms (lib/run.js, lib/httpClient.js in autocannon 9.0.0). Fixed rates use
//   rawOpenLoop (open-loop.ts) instead.
import autocannon from 'autocannon';
import type { LoadResult } from './results.ts';

export interface HttpRequestSpec {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

function loadgenCpu(): () => number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
  };
}

export interface ClosedLoopOptions {
  url: string;
  requests: readonly HttpRequestSpec[];
  connections: number;
  /** run for this long (cut off at the end: requests in flight are abandoned) … */
  durationS?: number;
  /** … or exactly this many requests, every one answered before it resolves */
  amount?: number;
  timeoutS?: number;
}

export async function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let non2xx = 0;
  let lastResponse = 0;
  const cpu = loadgenCpu();
  const t0 = performance.now();
  const opts: autocannon.Options = {
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    timeout: o.timeoutS ?? 10,
    method: 'POST',
    requests: o.requests.map((r) => ({ method: 'POST' as const, path: r.path, headers: { ...r.headers }, body: r.body as unknown as string })),
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.durationS ?? 8 }),
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('response', (_client: unknown, statusCode: number) => {
      lastResponse = performance.now();
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) ok2xx++;
      else non2xx++;
    });
  });
  const loadgenCpuPct = cpu();
  // amount mode: autocannon notices the end only at its next 1 s tick, so time to the last answer
  const wallMs = o.amount !== undefined ? lastResponse - t0 : result.duration * 1000;
  const l = result.latency as unknown as Record<string, number>;
  return {
    mode: 'closed',
    connections: o.connections,
    sent: result.requests.sent,
    ok2xx,
    non2xx,
    errors: result.errors,
    rate: wallMs > 0 ? (ok2xx / wallMs) * 1000 : 0,
    wallMs,
    spanMs: wallMs,
    latency: { p50: l.p50 ?? NaN, p99: l.p99 ?? NaN, 'p99.9': l.p99_9 ?? NaN, max: l.max ?? NaN },
    loadgenCpuPct,
    statusCodes,
  };
}
