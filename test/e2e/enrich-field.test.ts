// The `enrich` field of a subscription: default false, stored in the spec, shown by GET, refused
// when not a boolean, never registered in an instance (so toggling it is no drift: no platform
// write, the same subscription ids), and the enrichment stage runs exactly while some
// subscription has it.
import t from 'tap';
import { request } from 'undici';
import { createTopic, uniqueTopic } from '../helpers/kafka.ts';
import { eventually, GLUCOSE, ours, startGateway, startSim } from '../helpers/stack.ts';

t.test('enrich: default false, shown, stored; toggling it is no drift and starts/stops the stage', async (t) => {
  const sim = await startSim(t);
  const gw = await startGateway(t, sim);
  const created = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE] });
  t.same([created.status, created.json.enrich], [201, false], 'default false');
  await eventually('in sync', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  t.equal((await gw.admin('GET', '/v1/enrichment')).json.state, 'off', 'no subscription enriches: no stage');
  const before = ['1', '2'].map((id) => ours(sim, id));

  const bad = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: 'yes' });
  t.same([bad.status, bad.json.code], [400, 'HVG_ERR_VALIDATION']);
  t.match(bad.json.message, /enrich/);

  const on = await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true });
  t.same([on.status, on.json.enrich, on.json.revision], [200, true, 2], 'a change of the spec (new revision)');
  t.match(on.json.enrichSince, /^\d{4}-\d\d-\d\dT/, 'when it was turned on: older events are not enriched');
  t.equal(created.json.enrichSince, null);
  t.equal((await gw.admin('GET', '/v1/subscriptions/glucose')).json.enrich, true, 'GET shows it');
  t.equal(gw.app.subscriptions.store.view.spec('glucose')?.enrich, true, 'stored in the spec');
  await eventually('stage running', () => gw.admin('GET', '/v1/enrichment'), (r) => r.json.state === 'running');
  t.same((await gw.admin('GET', '/v1/enrichment')).json.enrichedSubscriptions, ['glucose']);

  // the reconciler sees the new revision, plans nothing, and both instances are in sync again with the very same subscriptions
  const dry = await gw.admin('POST', '/v1/reconcile?dryRun=true');
  t.ok(dry.json.plans.every((p: { actions: unknown[] }) => p.actions.length === 0), 'no action planned in any instance');
  await gw.admin('POST', '/v1/reconcile');
  await eventually('in sync again', () => gw.admin('GET', '/v1/subscriptions/glucose'), (r) => r.json.status.every((s: { state: string }) => s.state === 'in-sync'));
  t.same(['1', '2'].map((id) => ours(sim, id)), before, 'nothing registered changed (ids, keys, types, updatedAt)');
  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  t.notMatch(metrics, /hv_gateway_reconcile_drift_found_total\{[^}]*kind="update"/, 'no drift found');
  t.match(metrics, /hv_gateway_enrichment_running 1/);

  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true })).json.revision, 2, 'the same content again is no change');
  // rotating the key keeps enrich
  const rotated = await gw.admin('POST', '/v1/subscriptions/glucose/rotate-key');
  t.same([rotated.json.enrich, rotated.json.enrichSince], [true, on.json.enrichSince], 'a rotation keeps enrich and when it began');
  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], keyVersion: 3 })).json.enrich, false, 'a PUT without enrich sets it back to the default, like every other omitted field');
  await eventually('stage off', () => gw.admin('GET', '/v1/enrichment'), (r) => r.json.state === 'off');
});

t.test('KAFKA_CREATE_TOPICS=false without a things topic: the stage does not start and names the setting; the data path is unaffected', async (t) => {
  const sim = await startSim(t);
  const [topic, stateTopic, deadLetterTopic] = [uniqueTopic('events'), uniqueTopic('state'), uniqueTopic('dead')];
  for (const x of [topic, deadLetterTopic]) await createTopic(x, 3);
  for (const x of [stateTopic, `${stateTopic}.leader`]) await createTopic(x, 1);
  const gw = await startGateway(t, sim, { KAFKA_CREATE_TOPICS: 'false', KAFKA_TOPIC: topic, KAFKA_STATE_TOPIC: stateTopic, KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic });
  t.equal((await gw.admin('PUT', '/v1/subscriptions/glucose', { typeIds: [GLUCOSE], enrich: true })).status, 201);
  const r = await eventually('the start refused', () => gw.admin('GET', '/v1/enrichment'), (x) => x.json.lastStartError !== null);
  t.match(r.json.lastStartError, new RegExp(`topic ${gw.thingsTopic.replace(/\./g, '\\.')} \\(KAFKA_THINGS_TOPIC\\) does not exist`));
  t.not(r.json.state, 'running');
  t.equal((await request(`${gw.url}/readyz`)).statusCode, 200, 'readiness is about the data path, not the stage');
});
