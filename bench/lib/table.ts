// The printed table of bench/run.ts: number formats, one row per summary, the column layout.
import type { ProcessingResult } from '../processing.ts';
import type { SinkResult } from '../sink-bench.ts';
import type { ScenarioResult, Summary } from './results.ts';

export const kb = (size: number) => (size % 1024 === 0 ? `${size / 1024} KB` : `${size} B`);
export const n0 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Math.round(x).toLocaleString('en-US').replace(/,/g, ' '));
export const n1 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(1));
export const n2 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2));

export type Row = string[];
export const header: Row = ['scn', 'body', 'mode', 'conc', 'rate/s', 'CPU-µs/req', 'CPU%', 'oth0%', 'oth1%', 'gen%', 'RSS MB', 'p50 ms', 'p99 ms', 'p99.9 ms', 'in99', 'kfk99', 'wait%', 'eld99', 'eldmax', 'gcmax', 'gc%', 'bgcmax', 'offmain%', 'cal ms', 'fail', 'gate'];

export function summaryRow(id: string, size: number, mode: string, conc: string, s: Summary): Row {
  const gate = s.gateOk === undefined ? '—' : `${s.gateOk ? 'ok' : 'FAIL'} ${s.gatesOk}/${s.gatesRun}`;
  // an open-loop run that fell short of its target rate was overloaded (or disturbed): mark it
  const short = s.targetRate !== undefined && s.rate < 0.95 * s.targetRate ? '!' : '';
  const l = s.loop;
  return [id, kb(size), mode, conc, n0(s.rate) + short, n1(s.cpuUsPerReq), n0(s.cpuPct), n0(s.otherOnSutPct), n0(s.otherOnLoadPct), n0(s.loadgenCpuPct), n0(s.rssMaxMB), n2(s.p50), n2(s.p99), n2(s['p99.9']), n1(l?.inP99), n1(l?.produceP99), n1(s.waitedPct), n1(l?.eldP99), n1(l?.eldMax), n1(l?.gcMaxMs), n1(l?.gcPct), n1(s.brokerGcMaxMs), n0(s.offMainPct), n1(s.calibMs), String(s.non2xx + s.errors), gate];
}

export function scenarioRows(r: ScenarioResult, openConnections: number, idLabel = r.id): Row[] {
  if (r.status !== 'ok' || !r.max) return [[idLabel, kb(r.size), `FAILED: ${r.error ?? 'no result'}`]];
  const rows: Row[] = [summaryRow(idLabel, r.size, 'closed max', String(r.bestConnections), r.max.median)];
  for (const o of r.open) {
    const mode = Number.isFinite(o.fraction) ? `open ${Math.round(o.fraction * 100)}%` : 'open';
    rows.push(summaryRow(idLabel, r.size, mode, `≤${r.open.length ? openConnections : ''}`, o.median));
  }
  return rows;
}

export function sinkRows(r: SinkResult): Row[] {
  if (r.status !== 'ok' || !r.max) return [[r.id, kb(r.size), `FAILED: ${r.error ?? 'no result'}`]];
  const rows: Row[] = [summaryRow(r.id, r.size, 'closed max', `${r.bestConnections} out`, r.max.median)];
  for (const o of r.open) rows.push(summaryRow(r.id, r.size, `open ${Math.round(o.fraction * 100)}%`, '—', o.median));
  return rows;
}

export function processingRows(r: ProcessingResult): Row[] {
  if (r.status !== 'ok' || !r.median) return [['P', kb(r.size), `FAILED: ${r.error ?? 'no result'}`]];
  return [['P', kb(r.size), 'loop', '1', n0(r.median.opsPerS), n1(r.median.cpuUsPerOp), '100', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '0', '—']];
}

export function table(rows: Row[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 3).map((r) => (r[i] ?? '').length)));
  const line = (r: Row) => (r.length <= 3 ? r.join('  ') : r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

