// The broker's GC pauses inside a run's window. bench/run.sh starts the broker with
// KAFKA_GC_LOG=$BENCH_BROKER_GC_LOG (scripts/kafka.sh → -Xlog:gc:file=…:time), one line per pause:
//   [2026-12-02T13:04:48.517+0000] GC(37) Pause Young (Normal) (G1 Evacuation Pause) 188M->167M(512M) 28.054ms
// The time is when the line was written, at the end of the pause. Why the bench wants it: while the
// broker is paused no produce is answered — K's records and the gateway's requests wait alike, but
// behind the gateway a sender with 64 connections runs out of them after ~22 ms at 2 900/s, and the
// backlog then costs CPU to drain — so a run's p99 is read next to the longest broker pause in it.
import { readFileSync } from 'node:fs';

export interface BrokerGc {
  /** pauses that overlap the window */
  count: number;
  maxMs: number;
  totalMs: number;
}

const LINE = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4})\].* Pause .* ([\d.]+)ms$/;

/** Parse one GC log's pause lines → [end epoch ms, duration ms]. Exported for its test. */
export function parsePauses(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    // "+0000" → "+00:00" for Date.parse
    const end = Date.parse(m[1]!.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    if (Number.isFinite(end)) out.push([end, Number(m[2])]);
  }
  return out;
}

/** The pauses of `file` that overlap [fromMs, toMs] (epoch ms); undefined without a log. */
export function brokerGcBetween(fromMs: number, toMs: number, file = process.env.BENCH_BROKER_GC_LOG): BrokerGc | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const inside = parsePauses(text).filter(([end, ms]) => end >= fromMs && end - ms <= toMs);
  return { count: inside.length, maxMs: inside.reduce((m, [, ms]) => Math.max(m, ms), 0), totalMs: inside.reduce((s, [, ms]) => s + ms, 0) };
}
