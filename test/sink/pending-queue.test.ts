import t from 'tap';
import type { Pending } from '../../src/sink/kafka-sink-options.ts';
import { PendingQueue } from '../../src/sink/pending-queue.ts';
import type { SinkRecord } from '../../src/sink/record.ts';

const rec: SinkRecord = { key: 'k', value: Buffer.from('v'), headers: {} };
const pending = (records: number, bytes: number, at: number): Pending => ({ records: Array.from({ length: records }, () => rec), bytes, at, settled: false, timer: undefined, resolve() {}, reject() {} });
const bounds = { maxBatchRecords: 10, maxBatchBytes: 1000 };

t.test('batches never split a publish, stop at the bounds, skip settled publishes and keep the counts', async (t) => {
  const q = new PendingQueue();
  const a = pending(4, 100, 0);
  const gone = pending(50, 100, 1);
  gone.settled = true; // timed out while queued
  const b = pending(5, 100, 2);
  const c = pending(3, 100, 3);
  for (const p of [a, gone, b, c]) q.push(p);
  t.equal(q.records, 62);
  t.same(q.takeBatch(bounds), [a, b], '4 + 5 records; c would make 12 > 10');
  t.equal(q.records, 3);
  t.same(q.takeBatch(bounds), [c]);
  t.same(q.takeBatch(bounds), [], 'empty');
  q.push(pending(25, 100, 4));
  t.equal(q.takeBatch(bounds).length, 1, 'a publish larger than the bound still goes, alone');
  q.push(pending(1, 600, 5));
  q.push(pending(1, 600, 6));
  t.equal(q.takeBatch(bounds).length, 1, 'the byte bound holds too');
  t.equal(q.drain().length, 1);
  t.equal(q.records, 0);
});

t.test('linger: wait counted from the oldest publish; none when off, empty, or a batch is full', async (t) => {
  const q = new PendingQueue();
  const linger = (ms: number) => ({ lingerMs: ms, sendIntervalMs: 0, lastSendAt: -Infinity });
  t.equal(q.waitLeft(linger(5), bounds, 100), 0, 'empty queue');
  q.push(pending(1, 10, 100));
  q.push(pending(1, 10, 103));
  t.equal(q.waitLeft(linger(5), bounds, 101), 4, 'oldest queued at 100, linger 5, now 101');
  t.equal(q.waitLeft(linger(5), bounds, 106), 0, 'past the linger');
  t.equal(q.waitLeft(linger(0), bounds, 101), 0, 'linger off');
  q.push(pending(8, 10, 104));
  t.ok(q.full(bounds));
  t.equal(q.waitLeft(linger(5), bounds, 101), 0, '10 records = a full batch');
  q.drain();
  q.push(pending(1, 1000, 200));
  t.equal(q.waitLeft(linger(5), bounds, 201), 0, 'the byte bound reached');
});

t.test('send interval: counted from the previous send; a record after a quiet spell waits for nothing; the longer rule wins', async (t) => {
  const q = new PendingQueue();
  const rules = (lingerMs: number, sendIntervalMs: number, lastSendAt: number) => ({ lingerMs, sendIntervalMs, lastSendAt });
  t.equal(q.waitLeft(rules(0, 2, 100), bounds, 100.5), 0, 'empty queue');
  q.push(pending(1, 10, 100.5));
  t.equal(q.waitLeft(rules(0, 2, 100), bounds, 100.5), 1.5, 'previous send started at 100, interval 2, now 100.5');
  t.equal(q.waitLeft(rules(0, 2, 50), bounds, 100.5), 0, 'quiet spell: the previous send is long past');
  t.equal(q.waitLeft(rules(0, 2, -Infinity), bounds, 100.5), 0, 'no send yet');
  t.equal(q.waitLeft(rules(0, 0, 100), bounds, 100.5), 0, 'interval off');
  t.equal(q.waitLeft(rules(5, 2, 100), bounds, 101), 4.5, 'linger 5 from the oldest (100.5) outlasts the interval');
  t.equal(q.waitLeft(rules(1, 20, 100), bounds, 101), 19, 'the interval outlasts the linger');
  q.push(pending(9, 10, 101));
  t.equal(q.waitLeft(rules(5, 20, 100), bounds, 101), 0, 'a full batch waits for neither');
});
