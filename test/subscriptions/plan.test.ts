import t from 'tap';
import { callbackUrl, planInstance } from '../../src/subscriptions/plan.ts';
import type { SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { GLUCOSE, WEIGHT } from '../../support/fixtures.ts';

const BASE = 'https://gw.example.com/hv';
const GLU = GLUCOSE;
const spec = (name: string, over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name, eventType: 'record-item-changed', typeIds: [GLU], instances: null, keyVersion: 1, previousKeyVersion: null, keyRotatedAt: null,
  revision: 1, createdAt: '', updatedAt: '', ...over,
});
const actual = (id: string, name: string, over: { typeIds?: string[]; keyVersionId?: string; instance?: string; url?: string } = {}) => ({
  id, url: over.url ?? callbackUrl(BASE, over.instance ?? '1', name), typeIds: over.typeIds ?? [GLU], keyVersionId: over.keyVersionId ?? 'v1',
});
const plan = (specs: SubscriptionSpec[], act: ReturnType<typeof actual>[], instanceId = '1') =>
  planInstance({ instanceId, supportedInstances: ['1', '2'], specs, actual: act, publicBaseUrl: BASE + '/' });

t.test('empty instance: create every desired subscription', async (t) => {
  const p = plan([spec('a'), spec('b', { typeIds: [GLU, WEIGHT] })], []);
  t.same(p.actions, [
    { kind: 'create', name: 'a', url: 'https://gw.example.com/hv/notifications/1/a', typeIds: [GLU], keyVersion: 1 },
    { kind: 'create', name: 'b', url: 'https://gw.example.com/hv/notifications/1/b', typeIds: [GLU, WEIGHT], keyVersion: 1 },
  ]);
});

t.test('in sync: nothing to do (type ids compared as sets, case-insensitively)', async (t) => {
  const p = plan([spec('a', { typeIds: [GLU, WEIGHT] })], [actual('id-a', 'a', { typeIds: [WEIGHT.toUpperCase(), GLU] })]);
  t.same(p.actions, []);
  t.same(p.inSync, { a: 'id-a' });
});

t.test('drift: changed filters or key version → update; duplicates and strays → delete; foreign untouched', async (t) => {
  const foreign = { id: 'f1', url: 'https://other.example.com/hook', typeIds: [GLU], keyVersionId: '1' };
  const p = plan(
    [spec('a', { keyVersion: 2 }), spec('b')],
    [
      actual('id-a', 'a'),
      actual('id-b1', 'b', { typeIds: [WEIGHT] }),
      actual('id-b2', 'b', { typeIds: [GLU] }),
      actual('id-old', 'gone'),
      actual('id-eu', 'a', { instance: '2' }),
      foreign,
    ],
  );
  t.same(p.foreign, [foreign]);
  t.same(p.inSync, { b: 'id-b2' }, 'the matching duplicate is kept');
  t.same(
    p.actions.map((a) => [a.kind, 'id' in a ? a.id : a.name, a.kind === 'update' ? a.changes : a.kind === 'delete' ? a.reason : '']),
    [
      ['delete', 'id-old', 'not-desired'],
      ['delete', 'id-eu', 'not-desired'],
      ['update', 'id-a', ['key-version']],
      ['delete', 'id-b1', 'duplicate'],
    ],
  );
});

t.test('instance subsets: a subscription limited to EU is created there and removed from US', async (t) => {
  const eu = spec('eu-only', { instances: ['2'] });
  t.same(plan([eu], [], '2').actions.map((a) => a.kind), ['create']);
  t.same(plan([eu], [actual('x', 'eu-only')], '1').actions.map((a) => [a.kind, a.kind === 'delete' ? a.reason : '']), [['delete', 'not-desired']]);
});

t.test('URLs compared by meaning: a normalised echo of ours is ours and in sync', async (t) => {
  const p = planInstance({
    instanceId: '1', supportedInstances: ['1'], specs: [spec('a')], publicBaseUrl: 'https://GW.Example.com:443/h%76/',
    actual: [{ id: 'id-a', url: 'https://gw.example.com/hv/notifications/1/a/', typeIds: [GLU], keyVersionId: 'v1' }],
  });
  t.same([p.actions, p.inSync, p.foreign], [[], { a: 'id-a' }, []]);
});

t.test('unreadable entries: foreign ones are reported with why, ours are replaced', async (t) => {
  const ourId = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
  const p = planInstance({ instanceId: '1', supportedInstances: ['1'], specs: [spec('a')], publicBaseUrl: BASE, actual: [
    { id: 'f1', url: 'http://other.example/x', typeIds: [], keyVersionId: '', unreadable: 'must be an absolute https:// URL' },
    { id: ourId, url: callbackUrl(BASE, '1', 'a'), typeIds: [], keyVersionId: '', unreadable: 'type-id: expected a GUID' },
  ] });
  t.same(p.foreign.map((f) => [f.id, f.unreadable]), [['f1', 'must be an absolute https:// URL']]);
  t.same(p.actions.map((a) => [a.kind, a.kind === 'delete' ? a.reason : a.name]), [['delete', 'unreadable'], ['create', 'a']]);
});
