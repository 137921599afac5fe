import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  buildAnonymousRequest, buildAuthenticatedRequest, isRequestExpired, parseRequest, verifyHeaderHmac, verifyInfoHash,
} from '../../src/healthvault/request-envelope.ts';
import { buildSubscribeToEventInfo } from '../../src/healthvault/eventing.ts';
import { buildGetServiceDefinitionInfo } from '../../src/healthvault/service-definition.ts';
import { GLUCOSE, WEIGHT } from '../../support/fixtures.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const expected = JSON.parse(fixture('expected-values.json'));
const APP_ID = expected.appId as string;
const SECRET = expected.session.sessionSharedSecretBase64 as string;
const TOKEN = expected.session.sessionToken as string;
const KEY_A = expected.notification.keys['4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218'].notificationKeyBase64 as string;
// The exact inputs of compute-examples.mjs.
const common = { language: 'en', country: 'US', msgTime: '2019-01-15T10:20:30.000Z', msgTtl: 1800, version: 'hv-gateway/0.1.0' };
const subscription = {
  key: KEY_A, keyVersionId: 'gw-2019-01-a', url: 'https://gateway.example.com/hv/notifications/us',
  typeIds: [[GLUCOSE, WEIGHT]],
};

function subscribeRequest(overrides: Record<string, unknown> = {}): string {
  return buildAuthenticatedRequest({
    ...common, method: 'SubscribeToEvent', methodVersion: 1, authToken: TOKEN, sharedSecret: SECRET,
    info: buildSubscribeToEventInfo(subscription), ...overrides,
  });
}

t.test('reproduces subscribetoevent-request.xml byte for byte', async (t) => {
  t.equal(subscribeRequest(), fixture('subscribetoevent-request.xml'));
  t.equal(subscribeRequest({ msgTime: new Date('2019-01-15T10:20:30.000Z') }), fixture('subscribetoevent-request.xml'), 'Date msg-time');
  t.equal(subscribeRequest({ sharedSecret: Buffer.from(SECRET, 'base64') }), fixture('subscribetoevent-request.xml'), 'secret as bytes');
});

t.test('reproduces getservicedefinition2-request.xml byte for byte', async (t) => {
  const xml = buildAnonymousRequest({
    ...common, method: 'GetServiceDefinition', methodVersion: 2, appId: APP_ID,
    info: buildGetServiceDefinitionInfo({ sections: ['topology'] }),
  });
  t.equal(xml, fixture('getservicedefinition2-request.xml'));
});

t.test('parses and verifies the signed fixture', async (t) => {
  const req = parseRequest(fixture('subscribetoevent-request.xml'));
  t.equal(req.method, 'SubscribeToEvent');
  t.equal(req.methodVersion, 1);
  t.equal(req.anonymous, false);
  t.equal(req.authToken, TOKEN);
  t.equal(req.appId, undefined);
  t.equal(req.msgTime, '2019-01-15T10:20:30.000Z');
  t.equal(req.msgTtl, 1800);
  t.equal(req.version, 'hv-gateway/0.1.0');
  t.equal(req.language, 'en');
  t.equal(req.country, 'US');
  t.same(req.infoHash, { algName: 'SHA256', algorithm: 'SHA256', value: expected.subscribeToEventRequest.infoHashSha256Base64 });
  t.same(req.hmac, { algName: 'HMACSHA256', algorithm: 'HMACSHA256', value: expected.subscribeToEventRequest.headerHmacSha256Base64 });
  t.ok(req.rawHeader.startsWith('<header><method>') && req.rawHeader.endsWith('</header>'));
  t.ok(req.rawInfo.startsWith('<info><subscription>') && req.rawInfo.endsWith('</info>'));
  t.equal(verifyInfoHash(req), true);
  t.equal(verifyHeaderHmac(req, SECRET), true);
  t.equal(verifyHeaderHmac(req, Buffer.from(SECRET, 'base64')), true);
  t.equal(verifyHeaderHmac(req, Buffer.alloc(32)), false, 'wrong secret');
  t.equal(parseRequest(Buffer.from(fixture('subscribetoevent-request.xml'))).rawInfo, req.rawInfo, 'bytes input');
});

t.test('anonymous request parse', async (t) => {
  const req = parseRequest(fixture('getservicedefinition2-request.xml'));
  t.equal(req.anonymous, true);
  t.equal(req.appId, APP_ID);
  t.equal(req.infoHash, undefined);
  t.equal(req.hmac, undefined);
  t.equal(verifyInfoHash(req), false, 'nothing to verify');
  t.equal(req.rawInfo, '<info><response-sections><section>topology</section></response-sections></info>');
});

t.test('SHA1 variants round-trip; tampering is detected', async (t) => {
  const xml = subscribeRequest({ hashAlgorithm: 'SHA1', hmacAlgorithm: 'HMACSHA1' });
  const req = parseRequest(xml);
  t.equal(req.infoHash?.algorithm, 'SHA1');
  t.equal(req.hmac?.algorithm, 'HMACSHA1');
  t.ok(verifyInfoHash(req) && verifyHeaderHmac(req, SECRET));
  const tamperedInfo = parseRequest(xml.replace('gateway.example.com/hv', 'evil.example.com/hv'));
  t.equal(verifyInfoHash(tamperedInfo), false);
  const tamperedHeader = parseRequest(xml.replace('<msg-ttl>1800', '<msg-ttl>9999'));
  t.equal(verifyHeaderHmac(tamperedHeader, SECRET), false);
  const unknownAlg = parseRequest(xml.replace('algName="SHA1"', 'algName="MD5"'));
  t.equal(unknownAlg.infoHash?.algorithm, undefined);
  t.equal(verifyInfoHash(unknownAlg), false);
  const badB64 = parseRequest(xml.replace(/(<hash-data algName="SHA1">)[^<]+/, '$1!!!!'));
  t.equal(verifyInfoHash(badB64), false);
});

t.test('a decoy header in a comment does not change what is hashed', async (t) => {
  const xml = fixture('subscribetoevent-request.xml').replace('<header>', '<!-- <header>decoy</header> --><header>');
  const req = parseRequest(xml);
  t.ok(req.rawHeader.startsWith('<header><method>'));
  t.equal(verifyHeaderHmac(req, SECRET), true);
});

t.test('header order, optional fields, offline person', async (t) => {
  const xml = buildAuthenticatedRequest({
    method: 'GetThings', methodVersion: 3, targetPersonId: '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01',
    recordId: '9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d', cultureCode: 'en-US', finalXsl: 'toxml',
    msgTime: '2019-01-15T10:20:30Z', version: 'v', authToken: 'tok&<', offlinePersonId: '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01',
    sharedSecret: SECRET, info: '<info/>',
  });
  t.match(xml, /<header><method>GetThings<\/method><method-version>3<\/method-version><target-person-id>.*<\/target-person-id><record-id>.*<\/record-id><auth-session><auth-token>tok&amp;&lt;<\/auth-token><offline-person-info><offline-person-id>/);
  t.match(xml, /<culture-code>en-US<\/culture-code><final-xsl>toxml<\/final-xsl><msg-time>2019-01-15T10:20:30Z<\/msg-time><msg-ttl>1800<\/msg-ttl>/);
  const req = parseRequest(xml);
  t.equal(req.authToken, 'tok&<');
  t.equal(req.offlinePersonId, '0d8f3a62-71c4-4b9e-a2f5-5e6c7d8b9a01');
  t.equal(req.recordId, '9b1c2d3e-4f50-4a6b-8c7d-e8f90a1b2c3d');
  t.equal(req.cultureCode, 'en-US');
  t.equal(req.rawInfo, '<info/>');
  t.ok(verifyInfoHash(req) && verifyHeaderHmac(req, SECRET));
});

t.test('builder input validation', async (t) => {
  const base = { ...common, method: 'GetServiceDefinition', methodVersion: 2, appId: APP_ID, info: '<info/>' };
  const bad: Record<string, Record<string, unknown>> = {
    appId: { appId: 'nope' }, method: { method: 'a b' }, version: { methodVersion: -1 }, ttl: { msgTtl: 1.5 },
    time: { msgTime: 'yesterday' }, date: { msgTime: new Date(Number.NaN) }, info: { info: '<x/>' }, emptyVersion: { version: ' ' },
  };
  for (const [name, o] of Object.entries(bad)) {
    t.throws(() => buildAnonymousRequest({ ...base, ...o } as never), { code: 'HVG_ERR_VALIDATION' }, name);
  }
  t.throws(() => subscribeRequest({ sharedSecret: 'not base64!' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => subscribeRequest({ userAuthToken: 'u', offlinePersonId: APP_ID }), { code: 'HVG_ERR_VALIDATION' });
});

t.test('parse rejects wrong shapes', async (t) => {
  const ok = fixture('subscribetoevent-request.xml');
  const cases: Record<string, string> = {
    wrongNamespace: ok.replace('urn:com.microsoft.wc.request', 'urn:other'),
    wrongRoot: ok.replace(/wc-request:request/g, 'wc-request:req'),
    twoHeaders: ok.replace('</header>', '</header><header/>'),
    twoInfos: ok.replace('</info>', '</info><info/>'),
    infoFirst: '<r:request xmlns:r="urn:com.microsoft.wc.request"><info/><header/></r:request>',
    noIdentity: ok.replace(/<auth-session>.*<\/auth-session>/, ''),
    bothIdentities: ok.replace('<auth-session>', `<app-id>${APP_ID}</app-id><auth-session>`),
    badTtl: ok.replace('<msg-ttl>1800', '<msg-ttl>-5'),
    badTime: ok.replace('2019-01-15T10:20:30.000Z', 'noon'),
    noAlgName: ok.replace(' algName="SHA256"', ''),
    twoHmacs: ok.replace('</auth>', '<hmac-data algName="HMACSHA1">x</hmac-data></auth>'),
    badPerson: ok.replace('<auth-session>', '<target-person-id>x</target-person-id><auth-session>'),
  };
  for (const [name, xml] of Object.entries(cases)) {
    t.throws(() => parseRequest(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
  }
  t.throws(() => parseRequest(ok.slice(0, 300)), { code: 'HVG_ERR_XML_MALFORMED' }, 'truncated');
});

t.test('isRequestExpired', async (t) => {
  const req = parseRequest(fixture('subscribetoevent-request.xml'));
  const sent = Date.parse('2019-01-15T10:20:30.000Z');
  t.equal(isRequestExpired(req, sent + 1800_000), false);
  t.equal(isRequestExpired(req, new Date(sent + 1800_001)), true);
  t.equal(isRequestExpired(req, sent + 1800_001, 5000), false, 'skew');
  const zoneless = parseRequest(fixture('subscribetoevent-request.xml').replace('10:20:30.000Z', '10:20:30'));
  t.equal(isRequestExpired(zoneless, sent + 1000), false, 'no zone read as UTC');
});
