// Key acceptance per instance (issue 13 point 3), as pure functions.
import t from 'tap';
import { acceptedKeys, nextConfirmations } from '../../src/subscriptions/key-acceptance.ts';
import type { InstanceObservation, SubscriptionSpec } from '../../src/subscriptions/model.ts';

const H = 1000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const spec = (over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name: 'a', eventType: 'record-item-changed', typeIds: [], instances: null, keyVersion: 3, previousKeyVersion: 2, keyRotatedAt: null,
  keyVersionFloor: 1, revision: 1, createdAt: '', updatedAt: '', ...over,
});
const obs = (over: Partial<InstanceObservation> = {}): InstanceObservation => ({
  instanceId: '1', name: 'a', hvSubscriptionId: null, knownIds: [], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null, ...over,
});

t.test('an instance that never confirmed a newer version accepts every version since the floor, without end', async (t) => {
  t.same(acceptedKeys(spec(), obs({ keyConfirmations: [{ version: 1, at: iso(NOW - 10 * H) }] }), H, NOW), [
    { version: 3, until: null }, { version: 2, until: null }, { version: 1, until: null },
  ]);
});

t.test('each older version expires a horizon after the first newer confirmation', async (t) => {
  const o = obs({ keyConfirmations: [{ version: 1, at: iso(NOW - 5000) }, { version: 2, at: iso(NOW - 500) }, { version: 3, at: iso(NOW - 100) }] });
  t.same(acceptedKeys(spec(), o, H, NOW), [{ version: 3, until: null }, { version: 2, until: NOW - 100 + H }, { version: 1, until: NOW - 500 + H }]);
  t.same(acceptedKeys(spec(), o, H, NOW + 600).map((k) => k.version), [3, 2], 'v1 gone once v2 was confirmed a horizon ago');
  t.same(acceptedKeys(spec(), o, H, NOW + 1000).map((k) => k.version), [3]);
});

t.test('the floor (revoke, re-creation) is absolute', async (t) => {
  t.same(acceptedKeys(spec({ keyVersionFloor: 3 }), obs(), H, NOW), [{ version: 3, until: null }]);
  t.same(acceptedKeys(spec(), obs({ keyFloor: 2 }), H, NOW).map((k) => k.version), [3, 2]);
});

t.test('confirmations: recorded once, folded into the floor when their horizon passed', async (t) => {
  const first = nextConfirmations(spec({ keyVersion: 2 }), obs({ keyConfirmations: [{ version: 1, at: iso(NOW - 5000) }] }), true, H, NOW);
  t.same(first, { keyConfirmations: [{ version: 2, at: iso(NOW) }], keyFloor: 1 });
  const again = nextConfirmations(spec({ keyVersion: 2 }), obs(first), true, H, NOW + 10);
  t.same(again.keyConfirmations, first.keyConfirmations, 'the first confirmation time stays');
  t.same(nextConfirmations(spec({ keyVersion: 2 }), obs(first), false, H, NOW + 2 * H), { keyConfirmations: [], keyFloor: 2 });
});
