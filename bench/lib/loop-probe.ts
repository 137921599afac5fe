// Preloaded into a Node system under test (`node --import bench/lib/loop-probe.ts …`, only when
// BENCH_PROBE_PORT is set): the event-loop delay histogram (perf_hooks.monitorEventLoopDelay), every
// GC pause (PerformanceObserver on 'gc'), the event-loop utilisation and the process' memory
// (heap, external, array buffers at the RSS peak) over a window the orchestrator opens and closes.
// Why in-process: none of these can be seen from /proc, and they are what a tail latency is made of
// (a 12 ms scavenge or a 30 ms synchronous callback shows as exactly that in p99.9).
//
// Control: one line per TCP connection on 127.0.0.1:BENCH_PROBE_PORT — "reset" starts a window and
// answers "ok"; "read" answers the window's LoopStats as one JSON line. The listener is unref'd
// (never keeps the process alive) and is touched twice per run, outside the measured load.
import { subscribe, tracingChannel } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer } from 'node:net';
import { constants, createHistogram, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';
import type { LoopStats } from './loop-stats.ts';
import type { ProbeTimeline } from './timeline.ts';

const port = Number(process.env.BENCH_PROBE_PORT ?? 0);
if (port > 0) {
  // 2 ms: fine enough to see a 5 ms pause, few enough wake-ups (≤ 500/s) to cost nothing measurable
  const eld = monitorEventLoopDelay({ resolution: Number(process.env.BENCH_PROBE_RESOLUTION_MS ?? 2) });
  eld.enable();
  let gcs: { kind: number; ms: number }[] = [];
  // developer aid (bench/profile-gateway.ts, PROFILE_TIMELINE=1): BENCH_PROBE_TIMELINE=<file> keeps
  // every request, Produce and GC of the window with its epoch start time (lib/timeline.ts's
  // ProbeTimeline), written to the file on "read"
  const timelineFile = process.env.BENCH_PROBE_TIMELINE;
  let timeline: ProbeTimeline = { http: [], produce: [], gc: [] };
  const epoch = (t: number) => performance.timeOrigin + t;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // entries of type 'gc' carry `detail.kind` (Node ≥ 16); the base PerformanceEntry type does not say so
      const kind = ('detail' in e ? (e.detail as { kind?: number } | undefined)?.kind : undefined) ?? 0;
      gcs.push({ kind, ms: e.duration });
      if (timelineFile) timeline.gc.push([epoch(e.startTime), e.duration, kind]);
    }
  }).observe({ entryTypes: ['gc'] });
  // Where a request's time goes, seen from inside: `http` = request parsed → response finished
  // (diagnostics_channel http.server.*; what the client sees minus the time the request waited
  // before the loop read it and the answer's way back), `produce` = one Produce request written →
  // its answer parsed (@platformatic/kafka's tracing channel plt:kafka:connections:api, apiKey 0;
  // kafkajs publishes no such channel, so under it this stays empty). Microseconds, 1 µs floor.
  const http = createHistogram();
  const produce = createHistogram();
  const started = new WeakMap<object, number>();
  const since = (h: RecordableHistogram, t: number | undefined) => {
    if (t === undefined) return;
    const ms = performance.now() - t;
    h.record(Math.max(1, Math.round(ms * 1000)));
    if (timelineFile) (h === http ? timeline.http : timeline.produce).push([epoch(t), ms]);
  };
  subscribe('http.server.request.start', (m) => started.set((m as { request: object }).request, performance.now()));
  subscribe('http.server.response.finish', (m) => since(http, started.get((m as { request: object }).request)));
  type ApiContext = { apiKey?: number; __probeT?: number };
  tracingChannel<string, ApiContext>('plt:kafka:connections:api').subscribe({
    start: (c) => {
      if (c.apiKey === 0) c.__probeT = performance.now();
    },
    end: () => {},
    asyncStart: (c) => since(produce, c.__probeT),
    asyncEnd: () => {},
    error: () => {},
  });
  const hist = (h: RecordableHistogram) => ({ count: h.count, p50: h.count ? h.percentile(50) / 1000 : 0, p99: h.count ? h.percentile(99) / 1000 : 0, 'p99.9': h.count ? h.percentile(99.9) / 1000 : 0, max: h.count ? h.max / 1000 : 0 });
  let t0 = performance.now();
  let elu0: EventLoopUtilization = performance.eventLoopUtilization();
  let peak = process.memoryUsage();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = m;
  }, 200);
  sampler.unref();

  const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
  const ms = (ns: number) => ns / 1e6;
  const mb = (b: number) => b / 1_048_576;
  const read = (): LoopStats => {
    const wallMs = performance.now() - t0;
    const durations = gcs.map((g) => g.ms).sort((a, b) => a - b);
    const byKind = (k: number) => {
      const of = gcs.filter((g) => g.kind === k);
      return { n: of.length, ms: of.reduce((s, g) => s + g.ms, 0), maxMs: of.reduce((m, g) => Math.max(m, g.ms), 0) };
    };
    const totalMs = durations.reduce((s, d) => s + d, 0);
    return {
      wallMs,
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), 'p99.9': ms(eld.percentile(99.9)), max: ms(eld.max), mean: ms(eld.mean), samples: eld.count },
      gc: {
        count: durations.length,
        totalMs,
        pct: wallMs > 0 ? (totalMs / wallMs) * 100 : 0,
        maxMs: durations.at(-1) ?? 0,
        p99Ms: pct(durations, 99),
        minor: byKind(constants.NODE_PERFORMANCE_GC_MINOR),
        major: byKind(constants.NODE_PERFORMANCE_GC_MAJOR),
        incremental: byKind(constants.NODE_PERFORMANCE_GC_INCREMENTAL),
        weakcb: byKind(constants.NODE_PERFORMANCE_GC_WEAKCB),
      },
      elu: performance.eventLoopUtilization(elu0).utilization,
      http: hist(http),
      produce: hist(produce),
      memAtPeakMB: { rss: mb(peak.rss), heapTotal: mb(peak.heapTotal), heapUsed: mb(peak.heapUsed), external: mb(peak.external), arrayBuffers: mb(peak.arrayBuffers) },
    };
  };
  const reset = () => {
    eld.reset();
    http.reset();
    produce.reset();
    gcs = [];
    timeline = { http: [], produce: [], gc: [] };
    t0 = performance.now();
    elu0 = performance.eventLoopUtilization();
    peak = process.memoryUsage();
  };

  // developer aid (bench/profile-gateway.ts): BENCH_PROBE_HEAP_PROFILE=<file> samples every
  // allocation of the window, including objects the scavenger already collected — where the
  // per-request garbage comes from; "heap" writes the profile (Chrome DevTools .heapprofile)
  const heapFile = process.env.BENCH_PROBE_HEAP_PROFILE;
  let session: Session | undefined;
  const startHeap = async () => {
    if (!heapFile) return;
    session ??= new Session();
    session.connect();
    // BENCH_PROBE_HEAP_LIVE=1: only what is still alive when the window closes (what in-flight work
    // retains); =old: what outlived the young generation (promoted, then dead or alive) — what
    // fills the old generation and so decides how often a major GC comes
    const mode = process.env.BENCH_PROBE_HEAP_LIVE;
    await session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMinorGC: mode !== '1' && mode !== 'old', includeObjectsCollectedByMajorGC: mode !== '1' });
  };
  const stopHeap = async () => {
    if (!session) return 'no heap sampling (BENCH_PROBE_HEAP_PROFILE unset)';
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(heapFile!, JSON.stringify(profile));
    session.disconnect();
    session = undefined;
    return heapFile!;
  };

  const server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: string) => {
      buf += d;
      if (!buf.includes('\n')) return;
      const cmd = buf.trim();
      if (cmd === 'reset') {
        reset();
        void startHeap().then(() => socket.end('ok\n'), (e: unknown) => socket.end(`heap sampling: ${String(e)}\n`));
      } else if (cmd === 'read') {
        if (timelineFile) writeFileSync(timelineFile, JSON.stringify(timeline));
        socket.end(JSON.stringify(read()) + '\n');
      }
      else if (cmd === 'heap') void stopHeap().then((f) => socket.end(f + '\n'), (e: unknown) => socket.end(`heap: ${String(e)}\n`));
      else socket.end('unknown\n');
    });
  });
  server.listen(port, '127.0.0.1');
  server.unref();
}
