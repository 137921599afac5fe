// Process plumbing for the bench: CPU time and RSS from /proc, pinned child processes that are
// always killed on exit (normal, error or signal), free ports, readiness waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokerGcBetween, type BrokerGc } from './broker-gc.ts';

/** clock ticks per second of /proc/<pid>/stat utime/stime (getconf CLK_TCK; 100 on Linux x86-64) */
export const CLK_TCK = 100;

/** utime + stime of the whole process (all threads), in µs, from /proc/<pid>/stat fields 14 and 15. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // field 2 (comm) is in parentheses and may contain spaces: split after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3]
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  return ((utime + stime) * 1_000_000) / CLK_TCK;
}

/**
 * CPU µs per thread name of a process (/proc/<pid>/task/*: comm and stat fields 14+15), summed
 * over threads of the same name: "MainThread" (the JS thread), "V8Worker" (V8's platform
 * threads: parallel scavenge, concurrent marking and sweeping, background compilation),
 * "libuv-worker", … On a single pinned core every µs a helper thread runs is a µs the event loop
 * does not, which is how GC becomes a latency problem there.
 */
export function threadCpuMicros(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[comm] = (out[comm] ?? 0) + ((Number(rest[14 - 3]) + Number(rest[15 - 3])) * 1_000_000) / CLK_TCK;
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples RSS every `everyMs` until stopped; returns the highest value seen (bytes). */
export function rssSampler(pid: number, everyMs = 200): { stop(): number } {
  let max = rssBytes(pid);
  const t = setInterval(() => {
    try {
      max = Math.max(max, rssBytes(pid));
    } catch {
      /* process gone: keep what we saw */
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      try {
        max = Math.max(max, rssBytes(pid));
      } catch {
        /* gone */
      }
      return max;
    },
  };
}

/** Per-core [busy, total] jiffies from /proc/stat (busy = everything but idle and iowait). */
export function coreTimes(): [number, number][] {
  const out: [number, number][] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = [total - (v[3] ?? 0) - (v[4] ?? 0), total];
  }
  return out;
}

export interface ProcessWindow {
  cpuUs: number;
  /** CPU of the load-core processes we own (broker, load generator) over the window */
  loadPidsCpuUs: number;
  rssMaxBytes: number;
  wallMs: number;
  /** busy % of every core over the window */
  coreBusyPct: number[];
  /** CPU µs per thread name over the window (threadCpuMicros) */
  threadCpuUs: Record<string, number>;
  /** the broker's GC pauses during the window (bench/run.sh's broker only) */
  brokerGc?: BrokerGc;
}

const cpuOr0 = (pid: number): number => {
  try {
    return cpuMicros(pid);
  } catch {
    return 0;
  }
};

/**
 * CPU and RSS of one process, the CPU of our processes on the load core (`loadPids`: broker,
 * load generator) and every core's busy %, over a window: call before the load, stop() after it.
 */
export function measureProcess(pid: number, loadPids: readonly number[] = []): { stop(): ProcessWindow } {
  const cpu0 = cpuMicros(pid);
  const load0 = loadPids.reduce((a, p) => a + cpuOr0(p), 0);
  const cores0 = coreTimes();
  const threads0 = threadCpuMicros(pid);
  const t0 = performance.now();
  const epoch0 = Date.now();
  const rss = rssSampler(pid);
  return {
    stop() {
      const cores1 = coreTimes();
      const coreBusyPct = cores1.map(([b, t], i) => {
        const [b0, t0c] = cores0[i] ?? [0, 0];
        return t > t0c ? ((b - b0) / (t - t0c)) * 100 : 0;
      });
      const loadPidsCpuUs = loadPids.reduce((a, p) => a + cpuOr0(p), 0) - load0;
      const threads1 = threadCpuMicros(pid);
      const threadCpuUs = Object.fromEntries(Object.entries(threads1).map(([k, v]) => [k, v - (threads0[k] ?? 0)]));
      const brokerGc = brokerGcBetween(epoch0, Date.now());
      return { cpuUs: cpuMicros(pid) - cpu0, loadPidsCpuUs, rssMaxBytes: rss.stop(), wallMs: performance.now() - t0, coreBusyPct, threadCpuUs, ...(brokerGc ? { brokerGc } : {}) };
    },
  };
}

/** Index of the first CPU of a taskset list like "0" or "0-1". */
export const firstCpu = (cpus: string): number => Number(/^\d+/.exec(cpus)?.[0] ?? 0);

/** Where things run, for the foreign-load check of each run. */
export interface Placement {
  sutCore: number;
  loadCore: number;
  /** our processes on the load core: the broker and the load generator */
  loadPids: number[];
}

// ---- children: every process the bench starts is registered here and killed on exit -------------

const children = new Set<ChildProcess>();
/** run.sh passes a file; every child pid is appended so run.sh can kill leftovers if we die hard */
const PID_FILE = process.env.BENCH_PID_FILE;

function killAll(signal: NodeJS.Signals): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killAll('SIGKILL'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping children\n`);
      killAll('SIGTERM');
      setTimeout(() => process.exit(130), 1500).unref();
    });
  }
}

export interface SpawnOptions {
  /** taskset CPU list, e.g. "0" */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  /** file to send stdout+stderr to (default: inherit stderr, stdout piped) */
  logFile?: string;
  cwd?: string;
  /** 'pipe': the child reads commands from its stdin (default: ignored) */
  stdin?: 'pipe';
}

/** Start a child (pinned with taskset when `cpus` is set; taskset execs, so the pid is the program's). */
export function startChild(cmd: string, args: readonly string[], o: SpawnOptions = {}): ChildProcess {
  hookExit();
  const argv = o.cpus !== undefined ? ['taskset', ['-c', o.cpus, cmd, ...args]] as const : [cmd, [...args]] as const;
  let stdio: ('ignore' | 'pipe' | 'inherit' | number)[] = ['ignore', 'pipe', 'inherit'];
  if (o.logFile) {
    writeFileSync(o.logFile, '');
    const fd = openSync(o.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  if (o.stdin === 'pipe') stdio[0] = 'pipe';
  const child = spawn(argv[0], argv[1], { env: o.env ?? process.env, stdio, cwd: o.cwd });
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (PID_FILE && child.pid) appendFileSync(PID_FILE, `${child.pid}\n`);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Resolves with the child's exit code; rejects if it does not end within timeoutMs (then it is killed). */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${child.pid} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Poll `url` until it answers with a status in [200, 300) or the deadline passes. */
export async function waitHttpOk(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last})`);
}

/** Read a child's stdout to the end and parse the last line as JSON. */
export async function jsonFromChild<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (out += d));
  const code = await waitExit(child, timeoutMs);
  const lines = out.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (code !== 0) throw new Error(`child exited with ${code}: ${last.slice(0, 500)}`);
  return JSON.parse(last) as T;
}
