// The REST use cases (SubscriptionService) against the in-memory state log: validation, ETags,
// concurrent writers on two replicas, key versions across rotation and re-creation, the limit.
import t from 'tap';
import { isHvgError, type HvgError } from '../../src/errors.ts';
import { SUBSCRIPTION_LIMIT } from '../../src/healthvault/eventing.ts';
import { SubscriptionService, stateOf } from '../../src/subscriptions/service.ts';
import type { InstanceObservation, SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { specKey } from '../../src/subscriptions/state-keys.ts';
import { MemoryStateLog } from '../helpers/memory-state-log.ts';

const GLU = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
const WEIGHT = '3d34d87e-7fc1-4153-800f-f56592cb0d17';
const BASE = 'https://gw.test/hv';
const NOW = new Date('2026-01-01T00:00:00.000Z');
const service = (state = new MemoryStateLog(), supported: readonly string[] = ['1', '2']) => ({
  state,
  svc: new SubscriptionService({ state, supportedInstances: () => supported, publicBaseUrl: BASE, now: () => NOW }),
});
const failure = async (p: Promise<unknown>): Promise<HvgError> => {
  try {
    await p;
  } catch (err) {
    if (isHvgError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
};

t.test('create, read back at once, list; an identical PUT writes nothing', async (t) => {
  const { state, svc } = service();
  const { view, created } = await svc.put('glu', { typeIds: [GLU.toUpperCase(), WEIGHT, GLU] });
  t.equal(created, true);
  t.match(view.spec, { name: 'glu', eventType: 'record-item-changed', typeIds: [WEIGHT, GLU].sort(), instances: null, keyVersion: 1, keyVersionFloor: 1, previousKeyVersion: null, revision: 1, createdAt: NOW.toISOString() });
  t.equal(view.etag, '"glu-r1"');
  t.same(view.instances.map((i) => [i.instanceId, i.state, i.callbackUrl, i.acceptedKeyVersions]), [
    ['1', 'pending', `${BASE}/notifications/1/glu`, [{ version: 1, until: null }]],
    ['2', 'pending', `${BASE}/notifications/2/glu`, [{ version: 1, until: null }]],
  ]);
  t.same(svc.get('glu'), view, 'read-your-writes: the view has it when put resolves');
  await svc.put('a', { typeIds: [GLU], instances: ['2'] });
  t.same(svc.list().map((v) => [v.spec.name, v.instances.map((i) => i.instanceId)]), [['a', ['2']], ['glu', ['1', '2']]]);
  const appends = state.log.appends.length;
  const again = await svc.put('glu', { typeIds: [GLU, WEIGHT] });
  t.same([again.created, again.view.spec.revision, state.log.appends.length], [false, 1, appends], 'same content: no write, same revision');
});

t.test('bad input names the field; nothing is written', async (t) => {
  const { state, svc } = service();
  const cases: [string, Parameters<SubscriptionService['put']>[1], string, RegExp][] = [
    ['Bad_Name', { typeIds: [GLU] }, 'name', /must be a slug/],
    ['glu', { typeIds: [] }, 'typeIds', /non-empty array/],
    ['glu', { typeIds: [GLU, 'nope'] }, 'typeIds[1]', /must be a GUID/],
    ['glu', { typeIds: [GLU], eventType: 'other' }, 'eventType', /must be one of record-item-changed/],
    ['glu', { typeIds: [GLU], instances: ['1', '9'] }, 'instances[1]', /"9" is not a supported instance \(supported: 1, 2\)/],
    ['glu', { typeIds: [GLU], instances: [] }, 'instances', /non-empty array/],
    ['glu', { typeIds: [GLU], keyVersion: 2 }, 'keyVersion', /may be omitted or 1 \(the first version of this name\)/],
  ];
  for (const [name, input, field, message] of cases) {
    const err = await failure(svc.put(name, input));
    t.same([err.code, err.details?.field], ['HVG_ERR_VALIDATION', field], field);
    t.match(err.message, message);
  }
  t.same(state.log.records, []);
  t.equal((await failure(Promise.resolve().then(() => svc.get('glu')))).code, 'HVG_ERR_NOT_FOUND');
});

t.test('preconditions: If-None-Match: * on an existing name, a stale or weak If-Match → 412 with the current ETag', async (t) => {
  const { svc } = service();
  await svc.put('glu', { typeIds: [GLU] });
  t.equal((await failure(svc.put('glu', { typeIds: [WEIGHT] }, { ifNoneMatch: '*' }))).code, 'HVG_ERR_PRECONDITION_FAILED');
  const stale = await failure(svc.put('glu', { typeIds: [WEIGHT] }, { ifMatch: '"glu-r0"' }));
  t.same([stale.code, stale.details?.etag], ['HVG_ERR_PRECONDITION_FAILED', '"glu-r1"']);
  t.equal((await failure(svc.put('glu', { typeIds: [WEIGHT] }, { ifMatch: 'W/"glu-r1"' }))).code, 'HVG_ERR_PRECONDITION_FAILED', 'weak tags never match');
  t.equal((await failure(svc.delete('nope', { ifMatch: '*' }))).code, 'HVG_ERR_NOT_FOUND');
  const ok = await svc.put('glu', { typeIds: [WEIGHT] }, { ifMatch: '"x", "glu-r1"' });
  t.equal(ok.view.etag, '"glu-r2"', 'one of a list of tags matches');
});

t.test('two replicas write the same name at once: one wins, the other gets 412 and the log ends with the winner', async (t) => {
  const a = service();
  const b = service(a.state.replica());
  const results = await Promise.allSettled([a.svc.put('race', { typeIds: [GLU] }), b.svc.put('race', { typeIds: [WEIGHT] })]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected'], 'the first in the log won');
  const lost = results[1]!.status === 'rejected' ? (results[1]!.reason as HvgError) : undefined;
  t.equal(lost?.code, 'HVG_ERR_PRECONDITION_FAILED');
  t.match(lost?.message, /was changed concurrently \(ETag now "race-r2"\)/, 'the ETag after the re-assertion');
  t.same(a.svc.get('race').spec.typeIds, [GLU]);
  const specs = a.state.log.values(specKey('race'));
  t.equal(specs.length, 3, 'both writes and the re-assertion');
  t.match(specs.at(-1)!.value, { typeIds: [GLU], revision: 2 }, 'compaction keeps the winner\'s content');
  t.same(b.svc.get('race').spec.revision, 2, 'every replica agrees');
});

t.test('key versions: rotation moves by one, revokePrevious raises the floor, a re-created name starts above its past', async (t) => {
  const { svc } = service();
  await svc.put('glu', { typeIds: [GLU] });
  const r = await svc.rotateKey('glu');
  t.match(r.spec, { keyVersion: 2, previousKeyVersion: 1, keyRotatedAt: NOW.toISOString(), keyVersionFloor: 1, revision: 2 });
  t.same(r.instances[0]!.acceptedKeyVersions.map((k) => k.version), [2, 1], 'v1 stays accepted until the instance confirms v2');
  const revoked = await svc.rotateKey('glu', {}, { revokePrevious: true });
  t.match(revoked.spec, { keyVersion: 3, keyVersionFloor: 3 });
  t.same(revoked.instances[0]!.acceptedKeyVersions.map((k) => k.version), [3]);
  const jump = await failure(svc.put('glu', { typeIds: [GLU], keyVersion: 5 }));
  t.match(jump.message, /may be omitted or 4 \(current 3 \+ 1, which rotates the key\)/);
  await svc.delete('glu', { ifMatch: '"glu-r3"' });
  t.equal((await failure(Promise.resolve().then(() => svc.get('glu')))).code, 'HVG_ERR_NOT_FOUND');
  const again = await svc.put('glu', { typeIds: [GLU] });
  t.match(again.view.spec, { keyVersion: 4, keyVersionFloor: 4, revision: 5 }, 'never reuses a version of the deleted name');
  t.equal(again.created, true);
});

t.test('the subscription limit counts ours and the foreign ones the last pass saw, per instance', async (t) => {
  const { state, svc } = service();
  const foreign = Array.from({ length: SUBSCRIPTION_LIMIT - 1 }, (_, i) => ({ id: `f${i}`, url: `https://other/${i}`, typeIds: [] }));
  await state.append([{ kind: 'report', report: { instanceId: '1', lastPassAt: null, lastPassOk: true, lastError: null, foreign } }]);
  await svc.put('one', { typeIds: [GLU], instances: ['1'] });
  const err = await failure(svc.put('two', { typeIds: [GLU] }));
  t.same([err.code, err.details], ['HVG_ERR_SUBSCRIPTION_LIMIT', { instanceId: '1', count: SUBSCRIPTION_LIMIT, ours: 1, foreign: SUBSCRIPTION_LIMIT - 1, limit: SUBSCRIPTION_LIMIT }]);
  t.equal((await svc.put('two', { typeIds: [GLU], instances: ['2'] })).created, true, 'another instance has room');
  t.equal((await svc.put('one', { typeIds: [WEIGHT], instances: ['1'] })).view.spec.revision, 2, 'changing one already there adds nothing');
});

t.test('per-instance state combines the spec with the observation', async (t) => {
  const { state, svc } = service();
  await svc.put('glu', { typeIds: [GLU] });
  const o: InstanceObservation = { instanceId: '2', name: 'glu', hvSubscriptionId: 'id-2', knownIds: ['id-2'], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: NOW.toISOString() };
  await state.append([{ kind: 'observation', instanceId: '2', name: 'glu', observation: o }]);
  t.match(svc.get('glu').instances, [{ instanceId: '1', state: 'pending', hvSubscriptionId: null }, { instanceId: '2', state: 'in-sync', hvSubscriptionId: 'id-2', keyVersion: 1, lastSync: NOW.toISOString() }]);
  const spec = svc.get('glu').spec;
  const at = (over: Partial<InstanceObservation>, s: SubscriptionSpec = spec) => stateOf(s, { ...o, ...over });
  t.same([at({ state: 'error' }), at({ hvSubscriptionId: null }), at({ specRevision: 0 }), at({}, { ...spec, keyVersion: 2 }), at({})], ['error', 'missing', 'pending', 'pending', 'in-sync']);
});

t.test('the log away: the write is refused as retriable and nothing changes', async (t) => {
  const { state, svc } = service();
  state.log.unavailable = true;
  const err = await failure(svc.put('glu', { typeIds: [GLU] }));
  t.same([err.code, err.retriable], ['HVG_ERR_STORE_UNAVAILABLE', true]);
  t.same(svc.list(), []);
});
