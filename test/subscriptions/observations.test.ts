// Observation bookkeeping as pure code: what a pass over one instance writes to the state log.
import t from 'tap';
import type { InstanceObservation, InstanceReport, SubscriptionSpec } from '../../src/subscriptions/model.ts';
import { heldRefusals, nextObservation, observationDue, passEntries, REPORT_REFRESH_MS, reportDue, STALE_OBSERVATION_MS, type PassOutcome, type PassRecord } from '../../src/subscriptions/observations.ts';
import { callbackUrl, planInstance } from '../../src/subscriptions/plan.ts';
import type { ActualSubscription } from '../../src/subscriptions/platform.ts';

const BASE = 'https://gw.test/hv';
const GLU = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
const ID_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const ID_A2 = 'aaaaaaaa-0000-4000-8000-0000000000a2';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const spec = (name: string, over: Partial<SubscriptionSpec> = {}): SubscriptionSpec => ({
  name, eventType: 'record-item-changed', typeIds: [GLU], instances: null, keyVersion: 1, previousKeyVersion: null, keyRotatedAt: null, revision: 1, createdAt: '', updatedAt: '', ...over,
});
const ours = (id: string, name: string, keyVersionId = 'v1'): ActualSubscription => ({ id, url: callbackUrl(BASE, '1', name), typeIds: [GLU], keyVersionId });
const plan = (specs: SubscriptionSpec[], actual: ActualSubscription[]) => planInstance({ instanceId: '1', supportedInstances: ['1'], specs, actual, publicBaseUrl: BASE });
const outcome = (over: Partial<PassOutcome> = {}): PassOutcome => ({ plan: null, ids: new Map(), errors: new Map(), configErrors: new Map(), passError: null, ...over });
const record = (over: Partial<PassRecord> = {}): PassRecord => ({ instanceId: '1', desired: [], previous: [], previousReport: undefined, outcome: outcome(), now: T0, keyRetryHorizonMs: 60_000, ...over });

t.test('first pass: an observation per desired subscription and the report, in that order', async (t) => {
  const a = spec('a');
  const b = spec('b');
  const p = plan([a, b], [ours(ID_A, 'a')]);
  const entries = passEntries(record({ desired: [a, b], outcome: outcome({ plan: p, ids: new Map(Object.entries(p.inSync)) }) }));
  t.same(entries.map((e) => e.kind), ['observation', 'observation', 'report']);
  const [oa, ob] = entries.map((e) => (e.kind === 'observation' ? e.observation : null));
  t.match(oa, { instanceId: '1', name: 'a', hvSubscriptionId: ID_A, knownIds: [ID_A], state: 'in-sync', keyVersion: 1, keyConfirmations: [{ version: 1, at: '2026-01-01T00:00:00.000Z' }], specRevision: 1, lastError: null, lastSync: '2026-01-01T00:00:00.000Z', configError: null });
  t.match(ob, { name: 'b', hvSubscriptionId: null, knownIds: [], state: 'missing', keyVersion: null, keyConfirmations: [] }, 'not created (yet): missing, nothing confirmed');
  const report = entries[2]!.kind === 'report' ? entries[2]!.report : undefined;
  t.same(report, { instanceId: '1', lastPassAt: '2026-01-01T00:00:00.000Z', lastPassOk: true, lastError: null, foreign: [] });
});

t.test('an idle pass writes nothing; a stale success is rewritten; the report is refreshed after REPORT_REFRESH_MS', async (t) => {
  const a = spec('a');
  const p = plan([a], [ours(ID_A, 'a')]);
  // a horizon longer than the test's clock: the confirmation of v1 is not folded into keyFloor meanwhile
  const first = record({ desired: [a], outcome: outcome({ plan: p, ids: new Map(Object.entries(p.inSync)) }), keyRetryHorizonMs: 3_600_000 });
  const written = passEntries(first);
  const previous = written.flatMap((e) => (e.kind === 'observation' && e.observation ? [e.observation] : []));
  const previousReport = written.flatMap((e) => (e.kind === 'report' ? [e.report] : []))[0];
  const again = (now: number) => passEntries({ ...first, previous, previousReport, now });
  t.same(again(T0 + 1000), [], 'nothing changed: no churn');
  t.same(again(T0 + REPORT_REFRESH_MS).map((e) => e.kind), ['report'], 'lastPassAt a minute old: the report only');
  t.same(again(T0 + STALE_OBSERVATION_MS + 1).map((e) => e.kind), ['observation', 'report'], 'lastSync older than 5 minutes: rewritten');
  const folded = passEntries({ ...first, previous, previousReport, now: T0 + 1000, keyRetryHorizonMs: 500 });
  t.match(folded, [{ kind: 'observation', observation: { keyConfirmations: [], keyFloor: 1 } }], 'the horizon passed: the confirmation folds into keyFloor, a change');
});

t.test('duplicates: every id of ours at the URL is known until removed; the created id is added', async (t) => {
  const a = spec('a');
  const p = plan([a], [ours(ID_A, 'a'), ours(ID_A2, 'a', 'v9')]);
  t.same(p.known, { a: [ID_A, ID_A2] }, 'plan reports the ids it matched by URL');
  const o = nextObservation(record({ outcome: outcome({ plan: p, ids: new Map(Object.entries(p.inSync)) }) }), a, undefined);
  t.same([o.hvSubscriptionId, o.knownIds], [ID_A, [ID_A, ID_A2]]);
  const created = nextObservation(record({ outcome: outcome({ plan: plan([a], []), ids: new Map([['a', ID_A2]]) }) }), a, { ...o, knownIds: [ID_A] });
  t.same(created.knownIds, [ID_A, ID_A2], 'nothing matched this time: the stored ids plus the new one');
});

t.test('a failed listing: every desired subscription in error, ids and sync time kept, no tombstones, the last foreign list kept', async (t) => {
  const a = spec('a', { revision: 2 });
  const prev: InstanceObservation = { instanceId: '1', name: 'a', hvSubscriptionId: ID_A, knownIds: [ID_A], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: '2025-12-31T00:00:00.000Z' };
  const gone: InstanceObservation = { ...prev, name: 'gone' };
  const previousReport: InstanceReport = { instanceId: '1', lastPassAt: '2025-12-31T00:00:00.000Z', lastPassOk: true, lastError: null, foreign: [{ id: 'f', url: 'https://x', typeIds: [] }] };
  const entries = passEntries(record({ desired: [a], previous: [prev, gone], previousReport, outcome: outcome({ passError: 'cannot list subscriptions: down' }) }));
  t.same(entries.map((e) => (e.kind === 'observation' ? e.name : e.kind)), ['a', 'report'], 'no tombstone for "gone": we did not see the instance');
  const o = entries[0]!.kind === 'observation' ? entries[0]!.observation : null;
  t.match(o, { state: 'error', lastError: 'cannot list subscriptions: down', hvSubscriptionId: ID_A, specRevision: 1, lastSync: '2025-12-31T00:00:00.000Z', keyVersion: 1 });
  const report = entries[1]!.kind === 'report' ? entries[1]!.report : undefined;
  t.match(report, { lastPassOk: false, lastError: 'cannot list subscriptions: down', foreign: previousReport.foreign });
});

t.test('after a listing, observations of names no longer wanted here are tombstoned', async (t) => {
  const prev: InstanceObservation = { instanceId: '1', name: 'old', hvSubscriptionId: ID_A, knownIds: [ID_A], state: 'in-sync', keyVersion: 1, specRevision: 1, lastError: null, lastSync: null };
  const entries = passEntries(record({ previous: [prev], outcome: outcome({ plan: plan([], []) }) }));
  t.same(entries[0], { kind: 'observation', instanceId: '1', name: 'old', observation: null });
});

t.test('a configuration refusal is recorded against the spec revision and holds the create until the spec changes or a forced pass', async (t) => {
  const a = spec('a', { revision: 4 });
  const o = nextObservation(record({ outcome: outcome({ plan: plan([a], []), errors: new Map([['a', 'configuration: limit']]), configErrors: new Map([['a', 133]]) }) }), a, undefined);
  t.match(o, { state: 'error', lastError: 'configuration: limit', configError: { hvStatus: 133, specRevision: 4 }, specRevision: 0 });
  const actions = plan([a], []).actions;
  t.same([...heldRefusals(actions, () => o, () => 4, false).keys()], ['a'], 'same revision: held');
  t.same(heldRefusals(actions, () => o, () => 5, false).size, 0, 'the spec changed: tried again');
  t.same(heldRefusals(actions, () => o, () => 4, true).size, 0, 'an operator asked: tried again');
  t.same(heldRefusals(plan([], [ours(ID_A, 'a')]).actions, () => o, () => 4, false).size, 0, 'deletes are never held');
});

t.test('what is due: a change beyond the timestamps; an error is not rewritten for staleness', async (t) => {
  const prev: InstanceObservation = { instanceId: '1', name: 'a', hvSubscriptionId: null, knownIds: [], state: 'error', keyVersion: null, specRevision: 0, lastError: 'x', lastSync: null };
  t.equal(observationDue(undefined, prev, T0), true);
  t.equal(observationDue(prev, { ...prev }, T0 + 10 * STALE_OBSERVATION_MS), false);
  t.equal(observationDue(prev, { ...prev, lastError: 'y' }, T0), true);
  const report: InstanceReport = { instanceId: '1', lastPassAt: '2026-01-01T00:00:00.000Z', lastPassOk: true, lastError: null, foreign: [] };
  t.equal(reportDue(report, { ...report, lastPassAt: '2026-01-01T00:00:59.999Z' }), false);
  t.equal(reportDue(report, { ...report, lastPassAt: '2026-01-01T00:00:01.000Z', lastPassOk: false }), true);
});
