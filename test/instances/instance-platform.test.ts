// InstancePlatform over the real simulator: the four eventing methods (healthvault-protocol.md
// §1.3–1.6) as the reconciler sees them, and SelectInstance (§3.3).
import t from 'tap';
import type { HvgError } from '../../src/errors.ts';
import { APP_ID, WEIGHT, GLUCOSE, discoverySettings, registry, startSim, write } from './helpers.ts';

t.test('subscribe, list, update, unsubscribe round trip in one instance only', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  const eu = r.platform('2')!;
  const id = await eu.subscribe(write('orders', [GLUCOSE.toUpperCase(), WEIGHT]));
  t.match(id, /^[0-9a-f-]{36}$/, 'platform-assigned id, lower-case');

  const stored = sim.instance('2').listSubscriptions();
  t.equal(stored.length, 1);
  t.same(stored[0]?.typeIds, [[GLUCOSE.toUpperCase(), WEIGHT]], 'one filter carrying every type id');
  t.equal(stored[0]?.keyBase64, Buffer.alloc(64, 7).toString('base64'));
  t.same(sim.instance('1').listSubscriptions(), [], 'subscriptions are per instance');

  t.same(await eu.listSubscriptions(), [{ id, url: 'https://gw.test/hv/notifications/orders', typeIds: [WEIGHT, GLUCOSE].sort(), keyVersionId: 'v1' }]);

  await eu.update(id, { ...write('orders-2', [WEIGHT], 'v2'), key: Buffer.alloc(64, 9) });
  const [after] = await eu.listSubscriptions();
  t.same([after?.url, after?.typeIds, after?.keyVersionId], ['https://gw.test/hv/notifications/orders-2', [WEIGHT], 'v2']);
  t.equal(sim.instance('2').listSubscriptions()[0]?.keyBase64, Buffer.alloc(64, 9).toString('base64'), 'key rotated');

  await eu.unsubscribe(id);
  t.same(await eu.listSubscriptions(), []);
});

t.test('a subscription made elsewhere with several filters reads as one flat lower-case set', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  const foreign = sim.instance('1').createSubscription({
    appId: APP_ID, url: 'https://gw.test/hv/other', keyVersionId: 'k-1', typeIds: [[GLUCOSE.toUpperCase()], [WEIGHT, GLUCOSE]],
  });
  await r.refresh();
  t.same(await r.platform('1')!.listSubscriptions(), [{ id: foreign.id.toLowerCase(), url: 'https://gw.test/hv/other', typeIds: [WEIGHT, GLUCOSE].sort(), keyVersionId: 'k-1' }]);
});

t.test('platform refusals keep their HealthVault status and name the instance', async (t) => {
  const sim = await startSim(t, { subscriptionLimit: 1 });
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  const us = r.platform('1')!;
  await us.subscribe(write('a'));
  const limit = (await us.subscribe(write('b')).catch((e: unknown) => e)) as HvgError;
  t.same([limit.code, limit.retriable, limit.details?.hvStatus, limit.details?.instanceId], ['HVG_ERR_HV_STATUS', false, 133, '1']);
  t.match(limit.message, /^instance "1" \(US\): HealthVault status 133 SUBSCRIPTION_LIMIT_EXCEEDED/);
  const invalid = (await r.platform('2')!.subscribe({ ...write('c'), url: 'https://elsewhere.test/x' }).catch((e: unknown) => e)) as HvgError;
  t.same([invalid.code, invalid.details?.hvStatus], ['HVG_ERR_HV_STATUS', 134], 'URL outside the ActionURL root: 134');
  const bad = (await us.subscribe({ ...write('d'), key: Buffer.alloc(10) }).catch((e: unknown) => e)) as HvgError;
  t.equal(bad.code, 'HVG_ERR_VALIDATION', 'a bad write is refused before anything is sent');
  t.match(bad.message, /^instance "1" \(US\): notification key must be exactly 64 bytes/);
  t.equal(r.instances().find((i) => i.id === '1')?.lastError?.code, 'HVG_ERR_HV_STATUS', "the caller's mistake is not the instance's last error");
});

t.test('SelectInstance through the default instance', async (t) => {
  const sim = await startSim(t);
  const r = registry(t, discoverySettings(sim));
  await r.refresh();
  t.same(await r.selectInstance({ country: 'DE' }), (({ port: _p, ...i }) => i)(sim.instance('2').info));
  t.equal((await r.selectInstance({ country: 'US', stateProvince: 'US-WA' }))?.id, '1');
  t.equal(await r.selectInstance({ country: 'AQ' }), undefined, 'a country no instance serves');
});
