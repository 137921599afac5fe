// The folded state (StateView) on its own: records applied as a replica's consumer applies them.
import t from 'tap';
import type { InstanceObservation, SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { instanceReportKey, observationKey, specKey, type StateKey } from '../../src/subscriptions/state-keys.ts';
import { StateView } from '../../src/subscriptions/view.ts';

const GLU = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
const SUB = 'AAAAAAAA-0000-4000-8000-00000000000A';
const spec = (name: string, over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name, eventType: 'record-item-changed', typeIds: [GLU], instances: null, keyVersion: 1, previousKeyVersion: null, keyRotatedAt: null, revision: 1, createdAt: '', updatedAt: '', ...over,
});
const obs = (over: Partial<InstanceObservation> = {}): InstanceObservation => ({
  instanceId: '1', name: 'glu', hvSubscriptionId: SUB, knownIds: [SUB], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null, ...over,
});

function feeder(view: StateView) {
  let offset = 0;
  return (key: string, value: unknown) => view.apply(key, value === null ? null : JSON.parse(JSON.stringify(value)), offset++);
}

t.test('spec records: the first write of a revision wins; markers keep revision and key version; tombstones forget', async (t) => {
  const view = new StateView(60_000);
  const feed = feeder(view);
  feed(specKey('glu'), { ...spec('glu'), writeId: 'a' });
  feed(specKey('glu'), { ...spec('glu', { typeIds: ['other'] }), writeId: 'b' });
  t.same(view.spec('glu')?.typeIds, [GLU], 'a second record with the same revision is ignored');
  t.equal(view.lastSpecWrite('glu')?.writeId, 'a', 'the writer of "b" can tell it lost');
  t.same(Object.keys(view.spec('glu')!).sort(), Object.keys(spec('glu')).sort(), 'writeId is not part of the spec');
  feed(specKey('glu'), { ...spec('glu', { revision: 2, keyVersion: 2 }), writeId: 'c' });
  t.equal(view.spec('glu')?.keyVersion, 2);
  feed(specKey('glu'), { name: 'glu', deleted: true, revision: 3, keyVersion: 2, writeId: 'd' });
  t.equal(view.spec('glu'), undefined, 'deleted');
  t.same(view.specs(), []);
  t.match(view.lastSpecWrite('glu'), { deleted: true, revision: 3, keyVersion: 2 }, 'the marker remembers');
  feed(specKey('glu'), { ...spec('glu', { revision: 3 }), writeId: 'e' });
  t.equal(view.spec('glu'), undefined, 'a re-creation must beat the marker\'s revision');
  feed(specKey('glu'), null);
  t.equal(view.lastSpecWrite('glu'), undefined, 'a tombstone forgets the name');
  feed(specKey('b'), { ...spec('b'), writeId: 'f' });
  feed(specKey('a'), { ...spec('a'), writeId: 'g' });
  t.same(view.specs().map((s) => s.name), ['a', 'b'], 'sorted by name');
});

t.test('observations and reports per instance; unknown keys are skipped but counted as applied', async (t) => {
  const view = new StateView(60_000);
  const feed = feeder(view);
  const seen: StateKey[] = [];
  const off = view.onApplied((_o, k) => seen.push(k));
  feed(observationKey('eu/2', 'glu'), obs({ instanceId: 'eu/2' }));
  feed(instanceReportKey('eu/2'), { instanceId: 'eu/2', lastPassAt: null, lastPassOk: true, lastError: null, foreign: [] });
  feed('lease/future', { x: 1 });
  feed('request/reconcile', { at: 'now' });
  t.equal(view.observation('eu/2', 'glu')?.hvSubscriptionId, SUB);
  t.equal(view.report('eu/2')?.lastPassOk, true);
  t.equal(view.appliedOffset, 3);
  t.same(seen.map((k) => k.kind), ['observation', 'report', 'unknown', 'reconcile-request'], 'listeners get the parsed key');
  off();
  feed(observationKey('eu/2', 'glu'), null);
  feed(instanceReportKey('eu/2'), null);
  t.equal(seen.length, 4, 'an unsubscribed listener is not called');
  t.same([view.observation('eu/2', 'glu'), view.report('eu/2'), view.observations()], [undefined, undefined, []]);
});

t.test('waitForOffset: resolves once applied, rejects after its timeout', async (t) => {
  const view = new StateView(60_000);
  const feed = feeder(view);
  const waiting = view.waitForOffset(1, 5000);
  feed(specKey('a'), { ...spec('a'), writeId: 'x' });
  feed(specKey('b'), { ...spec('b'), writeId: 'y' });
  await waiting;
  await view.waitForOffset(0, 0);
  await t.rejects(view.waitForOffset(5, 20), /store record 5 not applied within 20 ms/);
});

t.test('routes: only names and instances of ours; ids lower-case; a changed observation is seen at once', async (t) => {
  const view = new StateView(60_000);
  const feed = feeder(view);
  feed(specKey('glu'), { ...spec('glu', { instances: ['1'] }), writeId: 'a' });
  t.equal(view.route('2', 'glu'), undefined, 'the spec is limited to instance 1');
  t.equal(view.route('1', 'other'), undefined, 'no such name');
  const r0 = view.route('1', 'glu');
  t.same([r0?.keyVersions, [...(r0?.subscriptionIds ?? [])]], [[1], []], 'not observed yet: the current key, no ids');
  feed(observationKey('1', 'glu'), obs({ knownIds: [SUB, 'BBBBBBBB-0000-4000-8000-00000000000B'] }));
  t.same([...view.route('1', 'glu')!.subscriptionIds].sort(), [SUB.toLowerCase(), 'bbbbbbbb-0000-4000-8000-00000000000b']);
  t.equal(view.route('1', 'glu'), view.route('1', 'glu'), 'cached while nothing changed');
  feed(observationKey('1', 'glu'), obs({ hvSubscriptionId: 'CCCCCCCC-0000-4000-8000-00000000000C', knownIds: [] }));
  t.same([...view.route('1', 'glu')!.subscriptionIds], ['cccccccc-0000-4000-8000-00000000000c'], 'the cache follows the new observation');
});

t.test('key versions follow the instance: the old one until a newer one is confirmed plus the horizon', async (t) => {
  const view = new StateView(60_000);
  const feed = feeder(view);
  const rotated = spec('glu', { keyVersion: 2, previousKeyVersion: 1, revision: 2 });
  feed(specKey('glu'), { ...rotated, writeId: 'a' });
  t.same(view.route('1', 'glu')?.keyVersions, [2, 1], 'instance 1 has confirmed nothing: both');
  const at = Date.parse('2026-01-01T00:00:00.000Z');
  feed(observationKey('1', 'glu'), obs({ keyVersion: 2, keyConfirmations: [{ version: 2, at: new Date(at).toISOString() }], specRevision: 2 }));
  t.same(view.route('1', 'glu', at + 59_999)?.keyVersions, [2, 1], 'within the horizon');
  t.same(view.route('1', 'glu', at + 60_000)?.keyVersions, [2], 'after it');
  t.same(view.acceptedKeys(rotated, '1', at), [{ version: 2, until: null }, { version: 1, until: at + 60_000 }]);
  t.same(view.route('2', 'glu', at + 60_000)?.keyVersions, [2, 1], 'instance 2 is judged on its own confirmations');
});
