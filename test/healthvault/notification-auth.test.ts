import t from 'tap';
import { readFileSync } from 'node:fs';
import { createSecretKey } from 'node:crypto';
import {
  formatNotificationAuthorization, notificationAuthorizationFor, notificationKeyObject, parseNotificationAuthorization, signNotification, verifyNotification,
} from '../../src/healthvault/notification-auth.ts';

const bytes = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url));
const expected = JSON.parse(bytes('expected-values.json').toString('utf8'));
const SUB_A = '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218';
const KEY_A = Buffer.from(expected.notification.keys[SUB_A].notificationKeyBase64, 'base64');
const KEY_B = Buffer.from(expected.notification.keys['c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35'].notificationKeyBase64, 'base64');

/** Splits a .http fixture into its Authorization header value and raw body bytes. */
function httpFixture(name: string): { authorization: string; body: Buffer } {
  const raw = bytes(name);
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, split).toString('latin1');
  const authorization = /\r\nAuthorization: ([^\r\n]*)/.exec(head)?.[1] ?? '';
  return { authorization, body: raw.subarray(split + 4) };
}

t.test('reproduces both .http Authorization headers and verifies them', async (t) => {
  for (const [http, xml, exp] of [
    ['notification-one.http', 'notification-one.xml', expected.notification.one],
    ['notification-three-two-subscriptions.http', 'notification-three-two-subscriptions.xml', expected.notification.threeTwoSubscriptions],
  ] as const) {
    const { authorization, body } = httpFixture(http);
    t.equal(body.length, exp.bodyBytes, `${http} body length`);
    t.same(body, bytes(xml), `${http} body is the .xml fixture`);
    t.equal(signNotification(KEY_A, body).toString('base64'), exp.hmacBase64);
    t.equal(signNotification(KEY_A, body).toString('hex'), exp.hmacHex);
    t.equal(notificationAuthorizationFor(SUB_A, 'gw-2019-01-a', KEY_A, body), exp.header);
    t.equal(notificationAuthorizationFor(SUB_A, 'gw-2019-01-a', expected.notification.keys[SUB_A].notificationKeyBase64, body.toString('utf8')), exp.header, 'base64 key, string body');
    t.equal(authorization, exp.header, `${http} header`);
    const auth = parseNotificationAuthorization(authorization);
    t.equal(auth.subscriptionId, SUB_A);
    t.equal(auth.keyVersionId, 'gw-2019-01-a');
    t.equal(auth.mac.toString('base64'), exp.hmacBase64);
    t.equal(formatNotificationAuthorization(auth), exp.header);
    t.equal(verifyNotification(auth, KEY_A, body), true);
    t.equal(verifyNotification(auth, notificationKeyObject(KEY_A), body), true, 'KeyObject key');
    t.equal(verifyNotification(auth, notificationKeyObject(expected.notification.keys[SUB_A].notificationKeyBase64), body), true, 'KeyObject from base64');
    t.equal(verifyNotification(auth, KEY_B, body), false, 'other key');
    const tampered = Buffer.from(body);
    tampered[tampered.length - 1] ^= 1;
    t.equal(verifyNotification(auth, KEY_A, tampered), false, 'one bit flipped');
    t.equal(verifyNotification(auth, KEY_A, Buffer.concat([body, Buffer.from('\n')])), false, 'one extra newline');
    const hex = parseNotificationAuthorization(authorization.replace(exp.hmacBase64, exp.hmacHex), { acceptHex: true });
    t.equal(verifyNotification(hex, KEY_A, body), true, 'hex behind the flag');
  }
});

t.test('parse is strict and says which part is wrong', async (t) => {
  const good = expected.notification.one.header as string;
  const mac = expected.notification.one.hmacBase64 as string;
  t.equal(parseNotificationAuthorization(good.replace('HVEventingSharedKey', 'hveventingsharedkey')).keyVersionId, 'gw-2019-01-a', 'scheme case-insensitive');
  t.equal(parseNotificationAuthorization(`  ${good.replace(' ', '   ')} `).subscriptionId, SUB_A, 'surrounding whitespace');
  t.equal(parseNotificationAuthorization(good.replace(SUB_A, SUB_A.toUpperCase())).subscriptionId, SUB_A.toUpperCase());
  const cases: Record<string, [string | undefined, string]> = {
    missing: [undefined, 'header'],
    empty: ['  ', 'header'],
    long: [good + 'A'.repeat(600), 'header'],
    scheme: [good.replace('HVEventingSharedKey', 'Bearer'), 'scheme'],
    schemeOnly: ['HVEventingSharedKey', 'credentials'],
    noScheme: [good.replace('HVEventingSharedKey ', ''), 'scheme'],
    spaceInside: [good.replace(':gw', ': gw'), 'credentials'],
    twoParts: [`HVEventingSharedKey ${SUB_A}:${mac}`, 'credentials'],
    fourParts: [`${good}:extra`, 'credentials'],
    badGuid: [good.replace(SUB_A, 'not-a-guid'), 'subscriptionId'],
    braces: [good.replace(SUB_A, `{${SUB_A}}`), 'subscriptionId'],
    badVersion: [good.replace('gw-2019-01-a', 'gw_2019'), 'keyVersionId'],
    emptyVersion: [good.replace('gw-2019-01-a', ''), 'keyVersionId'],
    longVersion: [good.replace('gw-2019-01-a', 'a'.repeat(51)), 'keyVersionId'],
    shortMac: [good.replace(mac, mac.slice(4)), 'mac'],
    unpadded: [good.replace(mac, mac.slice(0, -1)), 'mac'],
    urlSafe: [good.replace(mac, `-${mac.slice(1)}`), 'mac'],
    nonCanonical: [good.replace(mac, `${mac.slice(0, 42)}F=`), 'mac'],
    hexWithoutFlag: [good.replace(mac, expected.notification.one.hmacHex), 'mac'],
    longMac: [good.replace(mac, Buffer.alloc(48).toString('base64')), 'mac'],
  };
  for (const [name, [header, part]] of Object.entries(cases)) {
    t.throws(() => parseNotificationAuthorization(header), { name: 'HvgError', code: 'HVG_ERR_PROTOCOL', details: { part } }, name);
  }
});

t.test('bad keys and MACs are caller errors', async (t) => {
  t.throws(() => signNotification(Buffer.alloc(32), 'x'), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => signNotification('short', 'x'), { code: 'HVG_ERR_VALIDATION' });
  const auth = parseNotificationAuthorization(expected.notification.one.header);
  t.throws(() => verifyNotification(auth, Buffer.alloc(63), Buffer.from('x')), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => verifyNotification(auth, createSecretKey(Buffer.alloc(32)), Buffer.from('x')), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => notificationKeyObject(Buffer.alloc(65)), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => formatNotificationAuthorization({ ...auth, mac: Buffer.alloc(31) }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => formatNotificationAuthorization({ ...auth, keyVersionId: 'a b' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => formatNotificationAuthorization({ ...auth, subscriptionId: 'x' }), { code: 'HVG_ERR_VALIDATION' });
});
