// A lean open-loop HTTP/1.1 load generator on raw sockets (prebuilt request bytes, a minimal
// response parser), so one core can offer tens of thousands of requests per second with the
// broker beside it. autocannon's -R is not open loop (see load.ts); undici costs ~25 µs per
// request here, which capped the offered rate near 40k/s with the load core saturated.
//
// Request i is due at t0 + i/R. Due requests go to an idle keep-alive connection (one request in
// flight per connection, like a real sender) or wait in a FIFO until one frees up; latency runs
// from the intended time to the last byte of the answer, so waiting anywhere is counted
// (no coordinated omission). The scheduler wakes about every millisecond.
import { connect, type Socket } from 'node:net';
import type { LoadResult } from './results.ts';
import type { LatencyTimeline } from './timeline.ts';
import { percentiles } from './stats.ts';
import type { HttpRequestSpec } from './load.ts';

interface Conn {
  socket: Socket;
  busy: number; // request index in flight, -1 when idle
  buf: Buffer | null;
  ready: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Parses one complete response at the start of `b`; returns [status, total length] or null if incomplete. */
function parseResponse(b: Buffer): [number, number] | null {
  const end = b.indexOf(CRLFCRLF);
  if (end < 0) return null;
  const head = b.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const total = end + 4 + Number(cl[1]);
    return b.length >= total ? [status, total] : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const z = b.indexOf('\r\n0\r\n\r\n', end);
    const z0 = b.indexOf('0\r\n\r\n', end + 4);
    if (z0 === end + 4) return [status, end + 4 + 5];
    return z >= 0 ? [status, z + 7] : null;
  }
  return [status, end + 4]; // no body (204/304, or an empty 200 without content-length)
}

export interface RawOpenLoopOptions {
  host: string;
  port: number;
  requests: readonly HttpRequestSpec[];
  rate: number;
  /** measured requests */
  count: number;
  /** requests sent first at the same rate and not measured (generator and connection warm-up); they still count for the gate */
  warmupCount?: number;
  connections?: number;
  timeoutMs?: number;
  /** return every measured request's latency by intended send time (lib/timeline.ts) */
  timeline?: boolean;
}

export async function rawOpenLoop(o: RawOpenLoopOptions): Promise<LoadResult & { timeline?: LatencyTimeline }> {
  const nconn = o.connections ?? 64;
  const warm = o.warmupCount ?? 0;
  const total = warm + o.count;
  const hostHeader = `${o.host}:${o.port}`;
  const wire = o.requests.map((r) => {
    let head = `POST ${r.path} HTTP/1.1\r\nhost: ${hostHeader}\r\nconnection: keep-alive\r\ncontent-length: ${r.body.length}\r\n`;
    for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
    return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), r.body]);
  });
  const lat = new Float64Array(o.count).fill(Infinity); // never answered = infinitely late
  const lag = new Float64Array(o.count);
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let non2xx = 0;
  let errors = 0;
  let done = 0;
  let lastDone = 0;
  /** measured requests that found every connection busy and waited in the generator */
  let queued = 0;
  const interval = 1000 / o.rate;
  const waiting: number[] = [];
  let wHead = 0;
  let t0 = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));

  const record = (i: number, status: number) => {
    const now = performance.now();
    lastDone = now;
    if (i >= warm) lat[i - warm] = now - (t0 + i * interval);
    if (status === 0) errors++;
    else {
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status >= 200 && status < 300) ok2xx++;
      else non2xx++;
    }
    if (++done === total) finish();
  };

  const send = (c: Conn, i: number) => {
    c.busy = i;
    if (i >= warm) lag[i - warm] = performance.now() - (t0 + i * interval);
    c.socket.write(wire[i % wire.length]!);
  };

  const pump = (c: Conn) => {
    if (c.busy < 0 && c.ready && wHead < waiting.length) send(c, waiting[wHead++]!);
    if (wHead > 4096 && wHead * 2 > waiting.length) {
      waiting.splice(0, wHead);
      wHead = 0;
    }
  };

  const conns: Conn[] = [];
  const idle: Conn[] = [];
  const open = (c: Conn) =>
    new Promise<void>((resolve) => {
      const s = connect({ host: o.host, port: o.port, noDelay: true });
      c.socket = s;
      c.buf = null;
      s.on('connect', () => {
        c.ready = true;
        resolve();
        pump(c);
        if (c.busy < 0) idle.push(c);
      });
      s.on('data', (d: Buffer) => {
        c.buf = c.buf ? Buffer.concat([c.buf, d]) : d;
        const r = parseResponse(c.buf);
        if (!r) return;
        c.buf = c.buf.length > r[1] ? c.buf.subarray(r[1]) : null;
        const i = c.busy;
        c.busy = -1;
        if (i >= 0) record(i, r[0]);
        pump(c);
        if (c.busy < 0) idle.push(c);
      });
      const lost = () => {
        if (!c.ready && c.busy < 0) return resolve();
        c.ready = false;
        const i = c.busy;
        c.busy = -1;
        if (i >= 0) record(i, 0);
        if (done < total) setTimeout(() => void open(c), 10);
      };
      s.on('error', () => {});
      s.on('close', lost);
    });
  for (let k = 0; k < nconn; k++) conns.push({ socket: null as unknown as Socket, busy: -1, buf: null, ready: false });
  await Promise.all(conns.map(open));

  const c0 = process.cpuUsage();
  t0 = performance.now() + 5;
  let next = 0;
  const dispatch = (i: number) => {
    // an idle connection (skip ones that got busy or dropped since they were listed)
    while (idle.length) {
      const c = idle.pop()!;
      if (c.ready && c.busy < 0) return send(c, i);
    }
    if (i >= warm) queued++;
    waiting.push(i);
  };
  const tick = () => {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) dispatch(next++);
    if (next < total) setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - now)));
  };
  setTimeout(tick, 5);
  const timeout = setTimeout(() => {
    // give up on what is still outstanding: it counts as errors, its latency stays infinite
    errors += total - done;
    done = total;
    finish();
  }, (total / o.rate) * 1000 + (o.timeoutMs ?? 15_000));
  await finished;
  clearTimeout(timeout);
  const cu = process.cpuUsage(c0);
  for (const c of conns) {
    c.socket.removeAllListeners('close');
    c.socket.destroy();
  }
  const tStart = t0 + warm * interval;
  const wallMs = lastDone - tStart;
  const byTime = o.timeline ? Float64Array.from(lat) : undefined; // percentiles() sorts in place
  const p = percentiles(lat);
  const q = percentiles(lag, [50, 99]);
  // rate over the measured part only: measured 2xx over its span (warm-up answers excluded)
  const measuredOk = ok2xx - Math.min(warm, ok2xx);
  return {
    mode: 'open',
    connections: nconn,
    targetRate: o.rate,
    sent: total,
    ok2xx,
    non2xx,
    errors,
    rate: wallMs > 0 ? (measuredOk / wallMs) * 1000 : 0,
    wallMs,
    spanMs: lastDone - t0,
    latency: { p50: p.p50!, p99: p.p99!, 'p99.9': p['p99.9']!, max: p.max! },
    lag: { p50: q.p50!, p99: q.p99! },
    queued,
    loadgenCpuPct: (((cu.user + cu.system) / 1000) / (lastDone - t0)) * 100,
    statusCodes,
    ...(o.timeline ? { timeline: { t0: performance.timeOrigin + tStart, intervalMs: interval, latMs: byTime! } } : {}),
  };
}
