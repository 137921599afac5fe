import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  buildGetEventSubscriptionsInfo, buildGetEventSubscriptionsResponse, buildStatusOnlyResponse, buildSubscribeToEventInfo,
  buildSubscribeToEventResponse, buildUnsubscribeToEventInfo, buildUpdateEventSubscriptionInfo, parseGetEventSubscriptionsInfo,
  parseGetEventSubscriptionsResponse, parseSubscribeToEventInfo, parseSubscribeToEventResponse, parseUnsubscribeToEventInfo,
  parseUnsubscribeToEventResponse, parseUpdateEventSubscriptionInfo, parseUpdateEventSubscriptionResponse,
} from '../../src/healthvault/eventing.ts';
import { parseRequest } from '../../src/healthvault/request-envelope.ts';
import { parseResponse } from '../../src/healthvault/response-envelope.ts';
import { GLUCOSE, PRESSURE, WEIGHT } from '../../support/fixtures.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const expected = JSON.parse(fixture('expected-values.json'));
const SUB_A = '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218';
const SUB_B = 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35';
const KEY_A = expected.notification.keys[SUB_A].notificationKeyBase64 as string;
const KEY_B = expected.notification.keys[SUB_B].notificationKeyBase64 as string;
const URL_US = 'https://gateway.example.com/hv/notifications/us';
const subA = { key: KEY_A, keyVersionId: 'gw-2019-01-a', url: URL_US, typeIds: [[GLUCOSE, WEIGHT]] };
const subB = { id: SUB_B, key: KEY_B, keyVersionId: 'gw-2019-01-b', url: URL_US, typeIds: [[PRESSURE], [WEIGHT]] };

t.test('SubscribeToEvent info: fixture fields, round trip, signed request info', async (t) => {
  const fromFixture = parseSubscribeToEventInfo(fixture('subscribetoevent-request-info.xml'));
  t.same({ ...fromFixture, key: undefined }, { id: undefined, key: undefined, keyBase64: KEY_A, keyVersionId: 'gw-2019-01-a', url: URL_US, typeIds: [[GLUCOSE, WEIGHT]] });
  t.equal(fromFixture.key.length, 64);
  const built = buildSubscribeToEventInfo(subA);
  t.same(parseSubscribeToEventInfo(built), fromFixture);
  const request = parseRequest(fixture('subscribetoevent-request.xml'));
  t.equal(request.rawInfo, built, 'the signed fixture carries exactly the built info');
  t.same(parseSubscribeToEventInfo(request.info), fromFixture, 'from the envelope element');
  t.throws(() => buildSubscribeToEventInfo({ ...subA, id: SUB_A }), { code: 'HVG_ERR_VALIDATION' });
  t.equal(parseSubscribeToEventInfo(buildUpdateEventSubscriptionInfo({ ...subA, id: SUB_A })).id, SUB_A, 'an id is reported, not refused');
  const namespaced = built.replace('<info>', '<m:info xmlns:m="urn:com.microsoft.wc.methods.SubscribeToEvent">').replace(/<\/info>$/, '</m:info>');
  t.equal(parseSubscribeToEventInfo(namespaced).url, URL_US, 'method-namespace info accepted (§7.14)');
});

t.test('SubscribeToEvent response', async (t) => {
  t.equal(parseSubscribeToEventResponse(fixture('subscribetoevent-response.xml')), SUB_A);
  t.equal(parseSubscribeToEventResponse(buildSubscribeToEventResponse(SUB_A)), SUB_A);
  t.equal(parseSubscribeToEventResponse(Buffer.from(buildSubscribeToEventResponse(SUB_A))), SUB_A);
  t.equal(parseSubscribeToEventResponse(parseResponse(fixture('subscribetoevent-response.xml'))), SUB_A);
  t.throws(() => parseSubscribeToEventResponse(fixture('error-response-subscription-limit.xml')), { code: 'HVG_ERR_HV_STATUS', details: { hvStatus: 133 } });
  t.throws(() => parseSubscribeToEventResponse(fixture('error-response-session-expired.xml')), { code: 'HVG_ERR_HV_SESSION_EXPIRED' });
  t.throws(() => parseSubscribeToEventResponse(fixture('status-only-response.xml')), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseSubscribeToEventResponse(fixture('subscribetoevent-response.xml').replace('4f2d9b1e-', 'zz')), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => buildSubscribeToEventResponse('x'), { code: 'HVG_ERR_VALIDATION' });
});

t.test('GetEventSubscriptions', async (t) => {
  t.equal(buildGetEventSubscriptionsInfo(), '<info/>');
  t.doesNotThrow(() => parseGetEventSubscriptionsInfo(fixture('geteventsubscriptions-request-info.xml')));
  t.throws(() => parseGetEventSubscriptionsInfo('<request/>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  const list = parseGetEventSubscriptionsResponse(fixture('geteventsubscriptions-response.xml'));
  t.equal(list.length, 2);
  t.match(list[0], { id: SUB_A, keyBase64: KEY_A, keyVersionId: 'gw-2019-01-a', url: URL_US, typeIds: [[GLUCOSE, WEIGHT]] });
  t.match(list[1], { id: SUB_B, keyBase64: KEY_B, keyVersionId: 'gw-2019-01-b', url: URL_US, typeIds: [[PRESSURE], [WEIGHT]] });
  t.same(parseGetEventSubscriptionsResponse(fixture('geteventsubscriptions-response-empty.xml')), []);
  const rebuilt = buildGetEventSubscriptionsResponse([{ ...subA, id: SUB_A }, subB]);
  t.same(parseGetEventSubscriptionsResponse(rebuilt), list, 'build → parse equals the fixture');
  t.same(parseGetEventSubscriptionsResponse(buildGetEventSubscriptionsResponse([])), []);
  t.throws(() => buildGetEventSubscriptionsResponse([subA]), { code: 'HVG_ERR_VALIDATION' }, 'listed needs ids');
  const noId = fixture('geteventsubscriptions-response.xml').replace(`<id>${SUB_A}</id>`, '');
  t.throws(() => parseGetEventSubscriptionsResponse(noId), { code: 'HVG_ERR_XML_UNEXPECTED' });
  const noSubscriptions = fixture('geteventsubscriptions-response-empty.xml').replace('<subscriptions/>', '');
  t.throws(() => parseGetEventSubscriptionsResponse(noSubscriptions), { code: 'HVG_ERR_XML_UNEXPECTED' });
});

t.test('UpdateEventSubscription', async (t) => {
  const parsed = parseUpdateEventSubscriptionInfo(fixture('updateeventsubscription-request-info.xml'));
  t.equal(parsed.id, SUB_A);
  t.equal(parsed.keyVersionId, 'gw-2019-02-a');
  t.equal(parsed.keyBase64, 'YVldBz3IbvcxFxwKuil3DkE+8LXUoTkk4dFX8tr+e5hT75XgW8JcpEoizhgzOQ9lY+z2IsFAqrIWVhobrOpPrQ==');
  t.same(parsed.typeIds, [[GLUCOSE, WEIGHT]]);
  t.equal(parsed.url, URL_US);
  const built = buildUpdateEventSubscriptionInfo({ id: SUB_A, key: parsed.key, keyVersionId: 'gw-2019-02-a', url: URL_US, typeIds: [[GLUCOSE, WEIGHT]] });
  t.same(parseUpdateEventSubscriptionInfo(built), parsed);
  t.throws(() => parseUpdateEventSubscriptionInfo(buildSubscribeToEventInfo(subA)), { code: 'HVG_ERR_XML_UNEXPECTED' }, 'id required');
  t.throws(() => buildUpdateEventSubscriptionInfo({ ...subA } as never), { code: 'HVG_ERR_VALIDATION' });
  t.doesNotThrow(() => parseUpdateEventSubscriptionResponse(fixture('status-only-response.xml')));
  t.doesNotThrow(() => parseUpdateEventSubscriptionResponse(buildStatusOnlyResponse()));
  t.throws(() => parseUpdateEventSubscriptionResponse('<response><status><code>132</code></status></response>'), { code: 'HVG_ERR_HV_STATUS', details: { hvStatusName: 'SUBSCRIPTION_NOT_FOUND' } });
});

t.test('UnsubscribeToEvent', async (t) => {
  t.equal(parseUnsubscribeToEventInfo(fixture('unsubscribetoevent-request-info.xml')), SUB_B);
  t.equal(buildUnsubscribeToEventInfo(SUB_B), `<info><subscription-id>${SUB_B}</subscription-id></info>`);
  t.equal(parseUnsubscribeToEventInfo(buildUnsubscribeToEventInfo(SUB_B)), SUB_B);
  t.throws(() => buildUnsubscribeToEventInfo('{' + SUB_B + '}'), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => parseUnsubscribeToEventInfo('<info/>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseUnsubscribeToEventInfo(`<info><subscription-id>${SUB_A}</subscription-id><subscription-id>${SUB_B}</subscription-id></info>`), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.doesNotThrow(() => parseUnsubscribeToEventResponse(fixture('status-only-response.xml')));
  t.throws(() => parseUnsubscribeToEventResponse(fixture('error-response-session-expired.xml')), { code: 'HVG_ERR_HV_SESSION_EXPIRED' });
});
