// The machine's own speed, measured right before every run: a fixed workload (arithmetic over a
// 4 MB array, so both the core and the memory path count) timed by a small process pinned to the
// SUT's core, idle (blocked on its stdin) while the run itself measures. On this kind of VM the
// same code at the same rate costs tens of percent more CPU in some minutes than in others (the
// host's other tenants), and that shows neither as foreign load in /proc/stat nor as steal time;
// this number makes it visible per run: its ms go up when the machine is slow. BENCH_SUT_CPUS
// (run.sh sets it) names the core; BENCH_SPEED_PROBE=0 turns it off.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startChild } from './proc.ts';

const WORKLOAD = `
const mask = (1 << 19) - 1;
const a = new Float64Array(mask + 1);
for (let i = 0; i <= mask; i++) a[i] = Math.sin(i);
function work() {
  let s = 0;
  for (let r = 0; r < 12; r++) for (let i = 0; i <= mask; i++) s += a[i] * a[(i * 7919) & mask];
  return s;
}
for (let i = 0; i < 5; i++) work(); // optimised before the first answer
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  pending += d;
  for (let n = pending.indexOf('\\n'); n !== -1; n = pending.indexOf('\\n')) {
    pending = pending.slice(n + 1);
    const t = performance.now();
    const s = work();
    process.stdout.write((performance.now() - t).toFixed(3) + (Number.isFinite(s) ? '' : ' ?') + '\\n');
  }
});
process.stdout.write('ready\\n');
`;

interface Probe {
  child: ChildProcess;
  next(): Promise<string>;
}

let probe: Promise<Probe | null> | undefined;

function start(cpus: string): Promise<Probe | null> {
  const child = startChild(process.execPath, ['-e', WORKLOAD], { cpus, stdin: 'pipe' });
  child.unref();
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  const next = () => new Promise<string>((resolve, reject) => {
    const l = lines.shift();
    if (l !== undefined) return resolve(l);
    const t = setTimeout(() => reject(new Error('speed probe: no answer within 10 s')), 10_000);
    waiters.push((x) => {
      clearTimeout(t);
      resolve(x);
    });
  });
  return next().then(
    (l) => (l === 'ready' ? { child, next } : null),
    () => null,
  );
}

/** ms the fixed workload took on the SUT core just now (higher = slower machine), or undefined when off or unavailable. */
export async function machineSpeedMs(): Promise<number | undefined> {
  const cpus = process.env.BENCH_SUT_CPUS;
  if (cpus === undefined || process.env.BENCH_SPEED_PROBE === '0') return undefined;
  probe ??= start(cpus);
  const p = await probe;
  if (p === null || p.child.exitCode !== null) return undefined;
  p.child.stdin!.write('go\n');
  const ms = Number.parseFloat(await p.next().catch(() => 'NaN'));
  return Number.isFinite(ms) ? ms : undefined;
}
