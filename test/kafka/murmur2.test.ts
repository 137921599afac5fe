// The gateway's allocation-free murmur2 partitioner must choose exactly the partition Java clients,
// kafkajs' DefaultPartitioner and @platformatic/kafka's compatibilityPartitioner choose: a change of
// partition for a key would break the per-record ordering the record contract promises.
import t from 'tap';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { compatibilityPartitioner, murmur2 as platformaticMurmur2 } from '@platformatic/kafka';
import { javaCompatiblePartitioner, murmur2 } from '../../src/kafka/murmur2.ts';

const require = createRequire(import.meta.url);
// kafkajs' own (Long-based) port of the same Java function
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

t.test("Kafka's own test vectors (UtilsTest.testMurmur2)", async (t) => {
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [s, want] of vectors) t.equal(murmur2(Buffer.from(s)), want, `murmur2("${s}")`);
});

t.test('the same value as both client libraries for every length and random bytes', async (t) => {
  let mismatches = 0;
  let checked = 0;
  for (let len = 0; len <= 200; len++) {
    for (let n = 0; n < 10; n++) {
      const key = randomBytes(len);
      const ours = murmur2(key);
      if (ours !== kafkajsMurmur2(key) || ours !== platformaticMurmur2(key)) mismatches++;
      if (javaCompatiblePartitioner(undefined, key) !== compatibilityPartitioner(undefined as never, key)) mismatches++;
      checked++;
    }
  }
  // the gateway's real keys: "<instanceId>:<recordId>"
  for (let i = 0; i < 500; i++) {
    const key = Buffer.from(`${1 + (i % 7)}:${crypto.randomUUID()}`);
    if (javaCompatiblePartitioner(undefined, key) !== compatibilityPartitioner(undefined as never, key)) mismatches++;
    checked++;
  }
  t.equal(mismatches, 0, `${checked} keys: identical hashes and partitions`);
  t.ok(javaCompatiblePartitioner(undefined, Buffer.from('x')) >= 0, 'a partition is never negative');
  t.equal(javaCompatiblePartitioner(undefined, undefined), 0, 'no key: partition 0');
});
