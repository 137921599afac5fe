// The state log's keys: one builder per kind, and the reader gives back what the builder encoded.
import t from 'tap';
import { entryKey, entryValue, instanceReportKey, observationKey, parseStateKey, specKey } from '../../src/subscriptions/state-keys.ts';

t.test('every kind round-trips through its key; instance ids are percent-encoded', async (t) => {
  t.equal(specKey('glucose'), 'spec/glucose');
  t.same(parseStateKey(specKey('glucose')), { kind: 'spec', name: 'glucose' });
  t.equal(observationKey('eu/2 x', 'glucose'), 'observed/eu%2F2%20x/glucose', 'a slash in an instance id cannot split the key');
  t.same(parseStateKey(observationKey('eu/2 x', 'glucose')), { kind: 'observation', instanceId: 'eu/2 x', name: 'glucose' });
  t.equal(instanceReportKey('1'), 'instance/1');
  t.same(parseStateKey(instanceReportKey('eu/2')), { kind: 'report', instanceId: 'eu/2' });
  t.same(parseStateKey('request/reconcile'), { kind: 'reconcile-request' });
});

t.test('keys of a newer version, or not ours, read as unknown; an undecodable id is kept verbatim', async (t) => {
  for (const k of ['', 'specs/x', 'request/other', 'observed/', 'observed/1', 'lease/1']) t.same(parseStateKey(k), { kind: 'unknown' }, JSON.stringify(k));
  t.same(parseStateKey('instance/%E0%A4%A'), { kind: 'report', instanceId: '%E0%A4%A' });
});

t.test('entries give the key and the value the log stores', async (t) => {
  const report = { instanceId: '2', lastPassAt: null, lastPassOk: true, lastError: null, foreign: [] };
  t.same([entryKey({ kind: 'report', report }), entryValue({ kind: 'report', report })], ['instance/2', report]);
  t.same([entryKey({ kind: 'reconcile-request', at: 'T' }), entryValue({ kind: 'reconcile-request', at: 'T' })], ['request/reconcile', { at: 'T' }]);
  const tomb = { kind: 'observation', instanceId: '1', name: 'a', observation: null } as const;
  t.same([entryKey(tomb), entryValue(tomb)], ['observed/1/a', null], 'a tombstone');
  const marker = { kind: 'spec', record: { name: 'a', deleted: true, revision: 3, writeId: 'w' } } as const;
  t.same([entryKey(marker), entryValue(marker)], ['spec/a', marker.record]);
});
