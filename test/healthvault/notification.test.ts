import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildNotificationBody, parseNotificationBody } from '../../src/healthvault/notification.ts';

const bytes = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url));
const SUB_A = '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218';
const SUB_B = 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35';
const PERSON = '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01';
const RECORD = '9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d';
const one = { subscriptionId: SUB_A, personId: PERSON, recordId: RECORD, thingIds: ['1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b'] };

t.test('notification-one.xml: parse and reproduce byte for byte', async (t) => {
  const body = bytes('notification-one.xml');
  t.same(parseNotificationBody(body), { notifications: [one], skipped: [] });
  t.equal(buildNotificationBody([one]), body.toString('utf8'));
});

t.test('notification-three-two-subscriptions.xml', async (t) => {
  const parsed = parseNotificationBody(bytes('notification-three-two-subscriptions.xml'));
  t.same(parsed.notifications, [
    { subscriptionId: SUB_A, personId: PERSON, recordId: RECORD, thingIds: ['2a3b4c5d-6e7f-4081-9203-a4b5c6d7e8f9', '3b4c5d6e-7f80-4192-a314-b5c6d7e8f90a'] },
    { subscriptionId: SUB_A, personId: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9', recordId: '6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0', thingIds: ['4c5d6e7f-8091-42a3-b425-c6d7e8f90a1b'] },
    { subscriptionId: SUB_B, personId: PERSON, recordId: RECORD, thingIds: ['5d6e7f80-91a2-43b4-8536-d7e8f90a1b2c'] },
  ]);
  t.same(parsed.skipped, []);
  t.same(parseNotificationBody(buildNotificationBody(parsed.notifications)), parsed, 'build → parse');
});

t.test('root matched by namespace, not prefix', async (t) => {
  const body = bytes('notification-one.xml').toString('utf8');
  const variants = [
    body.replace(/wc:notifications/g, 'n:notifications').replace('xmlns:wc=', 'xmlns:n='),
    body.replace(/wc:notifications/g, 'notifications').replace('xmlns:wc=', 'xmlns=').replace(/<notification>/g, '<notification xmlns="">'),
  ];
  for (const v of variants) t.same(parseNotificationBody(v).notifications, [one]);
  t.throws(() => parseNotificationBody(body.replace('urn:com.microsoft.wc.notification', 'urn:com.microsoft.wc.notifications')), { code: 'HVG_ERR_XML_UNEXPECTED', message: /expected root element/ });
  t.throws(() => parseNotificationBody(body.replace(' xmlns:wc="urn:com.microsoft.wc.notification"', '')), { code: 'HVG_ERR_XML_MALFORMED' }, 'undeclared prefix');
  t.throws(() => parseNotificationBody(body.replace(/wc:notifications/g, 'notifications').replace(' xmlns:wc="urn:com.microsoft.wc.notification"', '')), { code: 'HVG_ERR_XML_UNEXPECTED' }, 'no namespace');
});

t.test('lenient things/thing-id [I] and unknown kinds skipped', async (t) => {
  const flat = bytes('notification-one.xml').toString('utf8').replace('<thing><thing-id>1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b</thing-id></thing>', '<thing-id>1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b</thing-id>');
  t.same(parseNotificationBody(flat).notifications, [one]);
  const future = `<wc:notifications xmlns:wc="urn:com.microsoft.wc.notification"><notification><common><subscription-id>${SUB_B}</subscription-id></common><record-deleted-notification><x/></record-deleted-notification></notification>` +
    `<notification><common><subscription-id>${SUB_A}</subscription-id></common></notification>` +
    buildNotificationBody([one]).replace(/^<wc:notifications[^>]*>/, '');
  const parsed = parseNotificationBody(future);
  t.same(parsed.notifications, [one]);
  t.same(parsed.skipped, [{ position: 1, subscriptionId: SUB_B, kind: 'record-deleted-notification' }, { position: 2, subscriptionId: SUB_A, kind: '' }]);
});

t.test('negative cases name what is wrong', async (t) => {
  const ok = bytes('notification-one.xml').toString('utf8');
  const cases: Record<string, [string, RegExp]> = {
    empty: ['<wc:notifications xmlns:wc="urn:com.microsoft.wc.notification"/>', /no <notification>/],
    badSubscription: [ok.replace('>4f2d9b1e-', '>xf2d9b1e-'), /subscription-id: expected a GUID/],
    noCommon: [ok.replace(/<common>.*<\/common>/, ''), /missing <common>/],
    badPerson: [ok.replace(`>${PERSON}<`, '>me<'), /person-id: expected a GUID/],
    noRecord: [ok.replace(/<record-id>.*<\/record-id>/, ''), /missing <record-id>/],
    badThing: [ok.replace('>1f2e3d4c-', '>{1f2e3d4c-'), /thing-id: expected a GUID/],
    noThings: [ok.replace(/<things>.*<\/things>/, ''), /missing <things>/],
    emptyThings: [ok.replace(/<things>.*<\/things>/, '<things/>'), /no <thing>/],
    twoSubscriptionIds: [ok.replace('</common>', `<subscription-id>${SUB_B}</subscription-id></common>`), /more than once/],
    wrongRoot: [ok.replace(/wc:notifications/g, 'wc:notification'), /expected root element/],
  };
  for (const [name, [xml, message]] of Object.entries(cases)) {
    t.throws(() => parseNotificationBody(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED', message }, name);
  }
  t.throws(() => parseNotificationBody(ok.slice(0, -5)), { code: 'HVG_ERR_XML_MALFORMED' }, 'truncated');
  t.throws(() => parseNotificationBody('<!DOCTYPE x [<!ENTITY a "b">]>' + ok), { code: 'HVG_ERR_XML_FORBIDDEN' }, 'DTD');
  t.throws(() => parseNotificationBody('<a>'.repeat(17) + '</a>'.repeat(17)), { code: 'HVG_ERR_XML_FORBIDDEN' }, 'depth limit 16');
});

t.test('builder validation', async (t) => {
  t.throws(() => buildNotificationBody([]), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildNotificationBody([{ ...one, thingIds: [] }]), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildNotificationBody([{ ...one, recordId: 'r' }]), { code: 'HVG_ERR_VALIDATION' });
});
