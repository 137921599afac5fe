// What bench/lib/loop-probe.ts measures inside a Node system under test over one run, and the
// orchestrator's side of it: open a window before the load, read it after.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { median } from './stats.ts';

export interface LoopStats {
  wallMs: number;
  /** event-loop delay (monitorEventLoopDelay), ms: how late a timer ran, i.e. how long the loop was blocked */
  eld: { p50: number; p99: number; 'p99.9': number; max: number; mean: number; samples: number };
  /** GC pauses (PerformanceObserver 'gc'): every pause blocks the loop for its duration */
  gc: {
    count: number;
    totalMs: number;
    /** GC time, % of the window */
    pct: number;
    maxMs: number;
    p99Ms: number;
    minor: GcKind;
    major: GcKind;
    incremental: GcKind;
    weakcb: GcKind;
  };
  /** event-loop utilisation over the window (0..1) */
  elu: number;
  /** request parsed → response finished inside the SUT (HTTP SUTs), ms */
  http?: Spread;
  /** one Kafka Produce request written → its answer parsed (SUTs on @platformatic/kafka), ms */
  produce?: Spread;
  /** process.memoryUsage() at the highest RSS seen (sampled every 200 ms), MB */
  memAtPeakMB: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

export interface Spread {
  count: number;
  p50: number;
  p99: number;
  'p99.9': number;
  max: number;
}

export interface GcKind {
  n: number;
  ms: number;
  maxMs: number;
}

let probeJs: string | undefined;

/**
 * node flags that preload the probe; the SUT also needs BENCH_PROBE_PORT in its environment. The
 * probe is handed over as JavaScript (transpiled once per run into .cache/bench-probe/): a .ts file
 * makes Node load its TypeScript stripper, ~17 MB of RSS that the gateway in production
 * (`node dist/server.js`) never has, so the measured RSS would not be the product's.
 */
export function probeNodeFlags(root: string): string[] {
  if (probeJs === undefined) {
    const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
    const out = ts.transpileModule(readFileSync(join(root, 'bench/lib/loop-probe.ts'), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
    });
    const dir = join(root, '.cache/bench-probe');
    mkdirSync(dir, { recursive: true });
    probeJs = join(dir, `loop-probe-${process.pid}.mjs`);
    writeFileSync(probeJs, out.outputText);
  }
  return ['--import', probeJs];
}

export function ask(port: number, cmd: 'reset' | 'read' | 'heap'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('utf8');
    s.setTimeout(5000, () => s.destroy(new Error(`probe on port ${port}: no answer to ${cmd}`)));
    s.on('connect', () => s.write(`${cmd}\n`));
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out.trim()));
    s.on('error', reject);
  });
}

export interface Probe {
  port: number;
  reset(): Promise<void>;
  read(): Promise<LoopStats>;
}

export function probeClient(port: number): Probe {
  return {
    port,
    async reset() {
      const r = await ask(port, 'reset');
      if (r !== 'ok') throw new Error(`probe reset: ${r}`);
    },
    async read() {
      return JSON.parse(await ask(port, 'read')) as LoopStats;
    },
  };
}

/** The per-summary view: medians over the runs, except the maxima (the worst run's). */
export interface LoopSummary {
  eldP99: number;
  'eldP99.9': number;
  eldMax: number;
  gcMaxMs: number;
  gcPct: number;
  gcCount: number;
  minorMaxMs: number;
  majorCount: number;
  elu: number;
  heapTotalMB: number;
  externalMB: number;
  /** median p99 of request parsed → answered inside the SUT, ms (HTTP SUTs) */
  inP99?: number;
  /** median p99 of the Kafka Produce round trip, ms (SUTs on @platformatic/kafka) */
  produceP99?: number;
}

export function summarizeLoop(stats: readonly LoopStats[]): LoopSummary | undefined {
  if (!stats.length) return undefined;
  const med = (f: (s: LoopStats) => number) => median(stats.map(f));
  const max = (f: (s: LoopStats) => number) => Math.max(...stats.map(f));
  return {
    eldP99: med((s) => s.eld.p99),
    'eldP99.9': med((s) => s.eld['p99.9']),
    eldMax: max((s) => s.eld.max),
    gcMaxMs: max((s) => s.gc.maxMs),
    gcPct: med((s) => s.gc.pct),
    gcCount: med((s) => s.gc.count),
    minorMaxMs: max((s) => s.gc.minor.maxMs),
    majorCount: med((s) => s.gc.major.n),
    elu: med((s) => s.elu),
    heapTotalMB: max((s) => s.memAtPeakMB.heapTotal),
    externalMB: max((s) => s.memAtPeakMB.external),
    ...(stats.some((s) => s.http?.count) ? { inP99: med((s) => s.http?.p99 ?? NaN) } : {}),
    ...(stats.some((s) => s.produce?.count) ? { produceP99: med((s) => s.produce?.p99 ?? NaN) } : {}),
  };
}
