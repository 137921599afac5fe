// lib/timeline.ts: the bins that hold a run's tail, with the gateway's and the broker's GC beside them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { worstBins, type ProbeTimeline } from '../../bench/lib/timeline.ts';

t.test('the slow bin comes first, with what happened in it; the latencies are not reordered', async (t) => {
  const t0 = Date.parse('2026-12-02T13:00:00.000Z');
  // 1 000 requests at 1 ms apart, 2 ms each, but those due in 500–519 ms took 40 ms
  const lat = new Float64Array(1000).map((_, i) => (i >= 500 && i < 520 ? 40 : 2));
  const copy = Float64Array.from(lat);
  const probe: ProbeTimeline = {
    http: [[t0 + 505, 1], [t0 + 560, 50], [t0 + 20, 1]],
    produce: [[t0 + 502, 35], [t0 + 100, 1]],
    gc: [[t0 + 100, 1, 1], [t0 + 501, 12, 4], [t0 + 800, 4, 1]],
  };
  const dir = mkdtempSync(join(tmpdir(), 'timeline-'));
  const log = join(dir, 'gc.log');
  writeFileSync(log, '[2026-12-02T13:00:00.530+0000] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 300M->180M(512M) 25.000ms\n');
  const lines = worstBins({ t0, intervalMs: 1, latMs: lat }, probe, log, 100, 3);
  t.same(lat, copy, 'input order kept (the bins need it)');
  t.match(lines[0], /^p99 40\.0 ms: 20 requests at or above it, in 1 bins of 100 ms/);
  t.equal(lines.length, 2, 'one bin holds the whole tail');
  t.match(lines[1], /t=0\.5 s: 20 in the tail, max 40\.0 ms/);
  t.match(lines[1], /answered 1, slowest produce 35\.0 ms/, 'answered: finished inside the bin (not the one that ends after it)');
  t.match(lines[1], /gateway GC: mark-compact 12\.0 ms @1 \|/, 'the mark-compact, not the short scavenges');
  t.match(lines[1], /broker GC: 25\.0 ms @5$/, 'the broker pause, from its start (end − duration)');
  t.match(worstBins({ t0, intervalMs: 1, latMs: lat }, probe, undefined)[1], /broker GC: —$/, 'no broker log: nothing there');
  t.same(worstBins({ t0, intervalMs: 1, latMs: new Float64Array(0) }, probe, undefined), [], 'no requests: no lines');
});
