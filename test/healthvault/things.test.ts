import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  GETTHINGS_MAX_IDS_PER_GROUP, GETTHINGS_UNREADABLE_STATUSES, HV_METHODS, buildAuthenticatedRequest, buildGetThingsInfo, buildGetThingsResponse,
  parseGetThingsInfo, parseGetThingsResponse, parseRequest, parseXml, statusInfo, verifyHeaderHmac, verifyInfoHash,
} from '../../src/healthvault/index.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const expected = JSON.parse(fixture('expected-values.json'));
const SECRET = expected.session.sessionSharedSecretBase64 as string;
const TOKEN = expected.session.sessionToken as string;
const GT = expected.getThings3Request;
const IDS = GT.requestedThingIds as string[];
const GLUCOSE = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
const WEIGHT = '3d34d87e-7fc1-4153-800f-f56592cb0d17';
const info = () => buildGetThingsInfo({ thingIds: IDS, typeVersionFormats: [GLUCOSE, WEIGHT] });

t.test('reproduces getthings3-request.xml byte for byte (record-id + offline-person-info, §4.6.2)', async (t) => {
  const xml = buildAuthenticatedRequest({
    method: HV_METHODS.GetThings.name, methodVersion: HV_METHODS.GetThings.version, recordId: GT.recordId, offlinePersonId: GT.offlinePersonId,
    authToken: TOKEN, sharedSecret: SECRET, language: 'en', country: 'US', msgTime: '2019-01-15T10:21:00.000Z', msgTtl: 1800,
    version: 'hv-gateway/0.1.0', info: info(),
  });
  t.equal(xml, fixture('getthings3-request.xml'));
  const req = parseRequest(xml);
  t.equal(req.rawInfo.length, GT.infoBytes);
  t.equal(req.rawHeader.length, GT.headerBytes);
  t.equal(req.infoHash?.value, GT.infoHashSha256Base64);
  t.equal(req.hmac?.value, GT.headerHmacSha256Base64);
  t.ok(verifyInfoHash(req) && verifyHeaderHmac(req, SECRET));
  t.match(req, { method: 'GetThings', methodVersion: 3, recordId: GT.recordId, offlinePersonId: GT.offlinePersonId, authToken: TOKEN });
});

t.test('request info: the readable fixture and the built one say the same', async (t) => {
  const fromFixture = parseGetThingsInfo(fixture('getthings3-request-info.xml'));
  t.same(fromFixture, [{
    name: 'changed-things', max: undefined, maxFull: undefined, ids: IDS, keys: [], clientThingIds: [], filterCount: 0,
    sections: ['core'], xml: [''], typeVersionFormats: [GLUCOSE, WEIGHT], currentVersionOnly: true,
  }]);
  t.same(parseGetThingsInfo(info()), fromFixture);
  t.same(parseGetThingsInfo(parseRequest(fixture('getthings3-request.xml')).info), fromFixture, 'from the envelope element');
  t.equal(buildGetThingsInfo({ thingIds: [IDS[0] ?? ''] }),
    `<info><group name="changed-things"><id>${IDS[0]}</id><format><section>core</section><xml/></format><current-version-only>true</current-version-only></group></info>`);
});

t.test('request info builder refuses what the platform would', async (t) => {
  t.throws(() => buildGetThingsInfo({ thingIds: [] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetThingsInfo({ thingIds: ['nope'] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetThingsInfo({ thingIds: [IDS[0] ?? '', (IDS[0] ?? '').toUpperCase()] }), { code: 'HVG_ERR_VALIDATION', message: /twice/ });
  const many = Array.from({ length: GETTHINGS_MAX_IDS_PER_GROUP + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  t.throws(() => buildGetThingsInfo({ thingIds: many }), { code: 'HVG_ERR_VALIDATION', message: /batch/ });
  t.doesNotThrow(() => buildGetThingsInfo({ thingIds: many.slice(1) }));
  t.match(buildGetThingsInfo({ thingIds: [IDS[0] ?? ''], groupName: 'a"<b' }), /name="a&quot;&lt;b"/);
});

t.test('request info reader enforces the XSD shape (simulator side)', async (t) => {
  const id = IDS[0] ?? '';
  const wrap = (inner: string) => `<info><group>${inner}</group></info>`;
  const fmt = '<format><section>core</section></format>';
  t.throws(() => parseGetThingsInfo(wrap(`<id>${id}</id>`)), { code: 'HVG_ERR_XML_UNEXPECTED', message: /missing <format>/ });
  t.throws(() => parseGetThingsInfo(wrap(`${fmt}<id>${id}</id>`)), { code: 'HVG_ERR_XML_UNEXPECTED', message: /order/ });
  t.throws(() => parseGetThingsInfo(wrap(`<id>${id}</id><key version-stamp="${id}">${id}</key>${fmt}`)), { message: /mixes/ });
  t.throws(() => parseGetThingsInfo(wrap(`<id>x</id>${fmt}`)), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseGetThingsInfo(wrap(`<id>${id}</id><format><section>everything</section></format>`)), { message: /unknown section/ });
  t.throws(() => parseGetThingsInfo('<info/>'), { message: /at least one <group>/ });
  t.throws(() => parseGetThingsInfo(`<info><group max="-1"><id>${id}</id>${fmt}</group></info>`), { message: /max/ });
  const g = parseGetThingsInfo(`<info><group max-full="5"><key version-stamp="${id}">${id}</key>${fmt}<current-version-only>false</current-version-only></group></info>`)[0];
  t.match(g, { maxFull: 5, keys: [{ thingId: id, versionStamp: id }], currentVersionOnly: false, xml: [] });
});

t.test('response: the fixture gives two things newest first, the deleted id absent (§4.6.9)', async (t) => {
  const [group, ...rest] = parseGetThingsResponse(fixture('getthings3-response.xml'));
  t.same(rest, []);
  t.equal(group?.name, 'changed-things');
  t.same(group?.things.map((x) => x.thingId), expected.getThings3Response.returnedThingIdsInOrder);
  t.notOk(group?.things.some((x) => expected.getThings3Response.absentThingIds.includes(x.thingId)));
  const fasting = group?.things[1];
  t.match(fasting, {
    thingId: '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b', versionStamp: '6b1e0c8a-93d4-4f27-b5a2-7c9e1d3f5a80', typeId: GLUCOSE,
    typeName: 'Blood glucose', state: 'Active', flags: 0, effectiveDate: '2019-01-15T07:55:00',
  });
  t.match(fasting?.dataXml, /^<data-xml>\s*<blood-glucose>[\s\S]*<mmolPerL>5\.4<\/mmolPerL>[\s\S]*<common \/>\s*<\/data-xml>$/);
  t.equal(parseXml(fasting?.dataXml ?? '').local, 'data-xml', 'the data slice is a document of its own');
  t.same(group?.unprocessed, []);
  t.equal(group?.filtered, false);
});

t.test('response: build and parse round trip (compact, wc prefix, unprocessed keys)', async (t) => {
  const parsed = parseGetThingsResponse(fixture('getthings3-response.xml'));
  const things = (parsed[0]?.things ?? []).map(({ dataXml, ...rest }) => ({
    ...rest, ...(dataXml === undefined ? {} : { data: dataXml.replace(/^<data-xml>/, '').replace(/<\/data-xml>$/, '') }),
  }));
  const unprocessed = [{ thingId: IDS[2] ?? '', versionStamp: IDS[0] ?? '', typeId: WEIGHT, typeName: 'Weight', effectiveDate: '2019-01-01T00:00:00' }];
  const xml = buildGetThingsResponse([{ name: 'changed-things', things, unprocessed }]);
  t.match(xml, /<wc:info xmlns:wc="urn:com\.microsoft\.wc\.methods\.response\.GetThings3"><group name="changed-things"><thing>/);
  t.same(parseGetThingsResponse(xml), [{ ...parsed[0], unprocessed }]);
  // another prefix bound to the namespace is the same answer (§7.22)
  t.same(parseGetThingsResponse(fixture('getthings3-response.xml').replace(/wc:info/g, 'x:info').replace('xmlns:wc', 'xmlns:x')), parsed);
  t.throws(() => buildGetThingsResponse([]), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetThingsResponse([{ things: [{ ...things[0], effectiveDate: 'today' } as never] }]), { code: 'HVG_ERR_VALIDATION' });
});

t.test('response: errors and strictness (§4.6.7)', async (t) => {
  t.throws(() => parseGetThingsResponse(fixture('getthings3-response-access-denied.xml')),
    { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 11, hvStatusName: 'ACCESS_DENIED' } });
  t.ok([9, 10, 11, 18].every((c) => GETTHINGS_UNREADABLE_STATUSES.has(c)));
  t.equal(statusInfo(124).name, 'TOO_MANY_THINGS_SPECIFIED');
  t.throws(() => parseGetThingsResponse(fixture('error-response-session-expired.xml')), { code: 'HVG_ERR_HV_SESSION_EXPIRED' });
  const ok = fixture('getthings3-response.xml');
  t.throws(() => parseGetThingsResponse(ok.replace(' version-stamp="6b1e0c8a-93d4-4f27-b5a2-7c9e1d3f5a80"', '')), { code: 'HVG_ERR_XML_UNEXPECTED', message: /version-stamp/ });
  t.throws(() => parseGetThingsResponse(ok.replace('2019-01-15T07:55:00', 'yesterday')), { code: 'HVG_ERR_XML_UNEXPECTED', message: /eff-date/ });
  t.throws(() => parseGetThingsResponse(ok.replace('<flags>0</flags>', '<flags>-1</flags>')), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseGetThingsResponse(ok.replace('GetThings3', 'GetThings')), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseGetThingsResponse(ok.replace(/<group[\s\S]*<\/group>/, '')), { code: 'HVG_ERR_XML_UNEXPECTED', message: /no <group>/ });
  t.same(parseGetThingsResponse(ok.replace(/<group name="changed-things">[\s\S]*<\/group>/, '<group name="changed-things"><filtered>true</filtered></group>')),
    [{ name: 'changed-things', things: [], unprocessed: [], filtered: true }], 'an empty group is a valid answer');
});
