// npm run drill: the failure drills of issue 8 (bench/drill/drills.ts says what each one does).
// Builds nothing itself — the npm script runs `tsc -p tsconfig.build.json` first, because the
// gateway runs as its own process from dist/server.js so that it can be killed with SIGKILL.
// Prints one verdict line per drill, writes bench/results/drill-<timestamp>.json, and exits 1
// if any drill failed (an acknowledged notification missing, a batch never delivered, a
// recovery that did not happen in bounded time). Everything listens on 127.0.0.1; every process
// it starts (brokers, gateways) is stopped on exit, on error and on Ctrl-C.
//
// Environment:
//   DRILLS a,b,c,f          which drills          DRILL_RATE 150     changes/s per instance
//   DRILL_WARM_S 4          load before the fault DRILL_AFTER_S 4    load after recovery
//   DRILL_KILLS 2           kill/restart rounds   DRILL_DOWN_S 2     gateway / broker down time
//   DRILL_SLOW_MS 4000      slow instance delay   DRILL_BOUND_S 300  bound per drill
//   DRILL_BROKER_CYCLES 1   broker stop/starts
// --full (issue 18): drills a, b, d, e with 20 kills and 5 broker cycles, a 1500 s bound per drill
// (the environment still overrides each), and one Markdown table of the figures at the end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Cleanup } from './drill/cleanup.ts';
import { DEFAULTS, runDrill, verdictLine, type DrillId, type DrillResult } from './drill/drills.ts';
import { ROOT } from './drill/gateway-process.ts';
import { drillTable } from './drill/table.ts';

const env = process.env;
const num = (k: string, d: number): number => {
  const v = env[k];
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${k}=${v} is not a non-negative number`);
  return n;
};
const full = process.argv.slice(2).includes('--full');
for (const a of process.argv.slice(2)) if (a !== '--full') throw new Error(`unknown argument ${a} (only --full)`);
const FULL = { kills: 20, brokerCycles: 5, boundMs: 1_500_000 };
const drills = (env.DRILLS ?? (full ? 'a,b,d,e,f' : 'a,b,c,f')).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) as DrillId[];
for (const d of drills) if (!['a', 'b', 'c', 'd', 'e', 'f'].includes(d)) throw new Error(`DRILLS: unknown drill "${d}" (a, b, c, d, e, f)`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = join(ROOT, '.cache/drill-run', stamp);
mkdirSync(runDir, { recursive: true });
const started = performance.now();
const log = (m: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);

const cleanup = new Cleanup(log);
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping everything the drill started`);
    void cleanup.run(20_000).finally(() => process.exit(130));
  });
}

const options = {
  ...DEFAULTS,
  ratePerInstance: num('DRILL_RATE', DEFAULTS.ratePerInstance),
  warmS: num('DRILL_WARM_S', DEFAULTS.warmS),
  afterS: num('DRILL_AFTER_S', DEFAULTS.afterS),
  kills: Math.max(1, Math.round(num('DRILL_KILLS', full ? FULL.kills : DEFAULTS.kills))),
  brokerCycles: Math.max(1, Math.round(num('DRILL_BROKER_CYCLES', full ? FULL.brokerCycles : DEFAULTS.brokerCycles))),
  downS: num('DRILL_DOWN_S', DEFAULTS.downS),
  slowMs: Math.round(num('DRILL_SLOW_MS', DEFAULTS.slowMs)),
  boundMs: num('DRILL_BOUND_S', (full ? FULL.boundMs : DEFAULTS.boundMs) / 1000) * 1000,
  cleanup,
  log,
  runDir,
};

const results: DrillResult[] = [];
const { cleanup: _c, log: _l, ...settings } = options;
const resultsDir = join(ROOT, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `drill-${stamp}.json`);
/** Written after every drill, so a run stopped half-way still leaves what ran (JSON and table). */
const writeOut = () => {
  const out = {
    kind: 'drill',
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavg: loadavg(), node: process.version },
    settings,
    full,
    interrupted,
    ok: !interrupted && results.length === drills.length && results.every((r) => r.ok),
    results,
  };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(resultsDir, `drill-${stamp}.md`), `${drillTable(results)}\n`);
  return out;
};
try {
  for (const id of drills) {
    if (interrupted) break;
    log(`drill ${id}: start`);
    const r = await runDrill(id, options);
    results.push(r);
    writeOut();
    log(`drill ${id}: ${r.ok ? 'pass' : 'FAIL'} in ${(r.durationMs / 1000).toFixed(0)} s (gateway logs: ${r.gatewayLogs.join(', ') || 'none'})`);
  }
} finally {
  await cleanup.run();
}

const out = writeOut();
process.stdout.write('\n');
for (const r of results) process.stdout.write(`${verdictLine(r)}\n`);
process.stdout.write(`\n${drillTable(results)}\n\n`);
process.stdout.write(`${out.ok ? 'all drills passed' : interrupted ? 'INTERRUPTED' : 'DRILLS FAILED'} — ${file}\n`);
process.exit(out.ok ? 0 : interrupted ? 130 : 1);
