import t from 'tap';
import { buildSubscriptionXml, parseKeyedSubscriptionElement, parseSubscriptionElement, validateSubscriptionSpec } from '../../src/healthvault/subscription.ts';
import { parseXml } from '../../src/healthvault/safe-xml.ts';
import { GLUCOSE, PRESSURE, WEIGHT } from '../../support/fixtures.ts';

const KEY = Buffer.alloc(64, 1);
const spec = {
  id: 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35', key: KEY, keyVersionId: 'v-1', url: 'https://gw.example.com/hv/n/us/a?x=1&y=2',
  typeIds: [[PRESSURE], [WEIGHT, GLUCOSE]],
};

t.test('round trip', async (t) => {
  const xml = buildSubscriptionXml(spec);
  t.match(xml, /^<subscription><common><id>c81e4a70-.*<\/id><notification-authentication-info><hv-eventing-shared-key><notification-key>AQEB/);
  t.match(xml, /<url>https:\/\/gw\.example\.com\/hv\/n\/us\/a\?x=1&amp;y=2<\/url>/);
  const sub = parseKeyedSubscriptionElement(parseXml(xml));
  t.same(sub, { id: spec.id, key: KEY, keyBase64: KEY.toString('base64'), keyVersionId: 'v-1', url: spec.url, typeIds: spec.typeIds });
});

t.test('key: base64 with whitespace, exactly 64 bytes', async (t) => {
  const b64 = KEY.toString('base64');
  const wrapped = `${b64.slice(0, 76)}\n${b64.slice(76)}\n`; // python base64.encodestring style
  t.equal(validateSubscriptionSpec({ ...spec, key: wrapped }).length, 64);
  const xml = buildSubscriptionXml(spec).replace(b64, wrapped);
  t.equal(parseKeyedSubscriptionElement(parseXml(xml)).keyBase64, b64, 'whitespace ignored, normalised');
  for (const key of [Buffer.alloc(32), Buffer.alloc(65), 'AAAA', 'not base64', '']) {
    t.throws(() => validateSubscriptionSpec({ ...spec, key }), { code: 'HVG_ERR_VALIDATION' });
  }
  const short = buildSubscriptionXml(spec).replace(b64, Buffer.alloc(63).toString('base64'));
  t.throws(() => parseSubscriptionElement(parseXml(short), true), { code: 'HVG_ERR_XML_UNEXPECTED', message: /exactly 64 bytes/ });
  t.notMatch(String((() => { try { parseSubscriptionElement(parseXml(short), true); } catch (e) { return (e as Error).message; } })()), Buffer.alloc(63).toString('base64'), 'key not echoed');
});

t.test('spec validation names the field', async (t) => {
  const bad: Record<string, Record<string, unknown>> = {
    id: { id: 'x' }, version: { keyVersionId: 'has space' }, versionLong: { keyVersionId: 'a'.repeat(51) }, versionEmpty: { keyVersionId: '' },
    http: { url: 'http://gw.example.com/' }, relative: { url: '/hv' }, noFilters: { typeIds: [] }, emptyFilter: { typeIds: [[]] }, typeId: { typeIds: [['nope']] },
  };
  for (const [name, o] of Object.entries(bad)) t.throws(() => buildSubscriptionXml({ ...spec, ...o } as never), { code: 'HVG_ERR_VALIDATION' }, name);
  t.equal(validateSubscriptionSpec({ ...spec, keyVersionId: 'a'.repeat(50) }).length, 64);
});

t.test('listing without the key is accepted when requireKey is false [I]', async (t) => {
  const xml = buildSubscriptionXml(spec).replace(/<notification-authentication-info>.*<\/notification-authentication-info>/, '');
  const sub = parseSubscriptionElement(parseXml(xml), false);
  t.equal(sub.key, undefined);
  t.equal(sub.keyVersionId, undefined);
  t.throws(() => parseSubscriptionElement(parseXml(xml), true), { code: 'HVG_ERR_XML_UNEXPECTED' });
  const versionOnly = buildSubscriptionXml(spec).replace(/<notification-key>[^<]*<\/notification-key>/, '');
  t.equal(parseSubscriptionElement(parseXml(versionOnly), false).keyVersionId, 'v-1');
});

t.test('parse negatives', async (t) => {
  const ok = buildSubscriptionXml(spec);
  const cases: Record<string, string> = {
    badId: ok.replace('<id>c81e4a70', '<id>z81e4a70'),
    twoIds: ok.replace('<common>', '<common><id>c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35</id>'),
    noCommon: ok.replace(/<common>.*<\/common>/, ''),
    badVersion: ok.replace('>v-1<', '>v 1<'),
    httpUrl: ok.replace('https://', 'http://'),
    noUrl: ok.replace(/<url>.*<\/url>/, ''),
    noFilter: ok.replace(/<filters>.*<\/filters>/, '<filters/>'),
    emptyTypeIds: ok.replace(/<type-ids>[^/]*<\/type-id><\/type-ids>/, '<type-ids/>'),
    badTypeId: ok.replace('<type-id>ca3c57f4', '<type-id>xa3c57f4'),
    noEvent: ok.replace(/<record-item-changed-event>.*<\/record-item-changed-event>/, ''),
  };
  for (const [name, xml] of Object.entries(cases)) t.throws(() => parseSubscriptionElement(parseXml(xml), true), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
});
