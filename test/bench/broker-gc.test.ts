// The bench's broker GC pauses (bench/lib/broker-gc.ts): the flag scripts/kafka.sh gives the JVM
// for KAFKA_GC_LOG, run on this machine's java, and the parser over what that JVM wrote.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { brokerGcBetween, parsePauses } from '../../bench/lib/broker-gc.ts';

const root = new URL('../..', import.meta.url).pathname;

t.test('the JVM writes the pause lines the parser reads, with wall-clock times', async (t) => {
  const flag = /"(-Xlog:gc:file=\$KAFKA_GC_LOG[^"]*)"/.exec(readFileSync(join(root, 'scripts/kafka.sh'), 'utf8'))?.[1];
  t.ok(flag, 'kafka.sh passes a -Xlog:gc flag for KAFKA_GC_LOG');
  const dir = mkdtempSync(join(tmpdir(), 'broker-gc-'));
  const log = join(dir, 'gc.log');
  writeFileSync(join(dir, 'Gc.java'), 'public class Gc { public static void main(String[] a) { byte[][] k = new byte[64][]; for (int i = 0; i < 4000; i++) k[i % 64] = new byte[64 * 1024]; System.gc(); System.gc(); } }\n');
  const before = Date.now();
  execFileSync('java', ['-XX:+UseG1GC', '-Xmx64m', flag!.replace('$KAFKA_GC_LOG', log), join(dir, 'Gc.java')], { stdio: 'ignore', timeout: 60_000 });
  const after = Date.now();
  const pauses = parsePauses(readFileSync(log, 'utf8'));
  t.ok(pauses.length >= 2, `at least the two System.gc() pauses parsed (${pauses.length})`);
  // whole seconds of slack: the log's clock has ms, the JVM starts before its first line
  t.ok(pauses.every(([end, ms]) => end >= before - 1000 && end <= after + 1000 && ms >= 0 && ms < 10_000), 'times within the run, durations plausible');
  const all = brokerGcBetween(before - 1000, after + 1000, log)!;
  t.equal(all.count, pauses.length, 'a window around the run holds every pause');
  t.equal(all.maxMs, Math.max(...pauses.map(([, ms]) => ms)));
  t.same(brokerGcBetween(after + 60_000, after + 70_000, log), { count: 0, maxMs: 0, totalMs: 0 }, 'a later window holds none');
});

t.test('parser: pauses only, overlap with the window, no log → undefined', async (t) => {
  const text = [
    '[2026-12-02T13:10:36.827+0000] Using G1',
    '[2026-12-02T13:10:37.963+0000] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 25M->5M(512M) 23.625ms',
    '[2026-12-02T13:10:39.304+0000] GC(3) Concurrent Mark Cycle',
    '[2026-12-02T13:10:39.333+0000] GC(3) Pause Remark 9M->9M(512M) 6.513ms',
    '[2026-12-02T13:10:39.432+0000] GC(3) Concurrent Mark Cycle 128.136ms',
    '[2026-12-02T14:10:39.333+0100] GC(4) Pause Cleanup 9M->9M(512M) 0.065ms',
  ].join('\n');
  const p = parsePauses(text);
  t.same(p.map(([, ms]) => ms), [23.625, 6.513, 0.065], 'young, remark and cleanup pauses; concurrent phases are not pauses');
  t.equal(p[2]![0], p[1]![0], 'the zone offset is applied');
  const dir = mkdtempSync(join(tmpdir(), 'broker-gc-'));
  writeFileSync(join(dir, 'gc.log'), text);
  const end0 = Date.parse('2026-12-02T13:10:37.963Z');
  t.same(brokerGcBetween(end0 - 10, end0 - 5, join(dir, 'gc.log')), { count: 1, maxMs: 23.625, totalMs: 23.625 }, 'a window inside the pause counts it');
  t.equal(brokerGcBetween(end0 + 1, end0 + 100, join(dir, 'gc.log'))!.count, 0, 'a window after it does not');
  t.equal(brokerGcBetween(0, 1, undefined), undefined, 'no log configured');
  t.equal(brokerGcBetween(0, 1, join(dir, 'missing.log')), undefined, 'no log written');
});
