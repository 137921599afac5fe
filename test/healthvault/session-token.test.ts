import t from 'tap';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import {
  buildCastInfo, buildCastRequest, buildCastResponse, certificateThumbprint, parseCastInfo, parseCastRequest, parseCastResponse,
  verifyCastHmacSig, verifyCastSignature,
} from '../../src/healthvault/session-token.ts';
import { parseRequest } from '../../src/healthvault/request-envelope.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const expected = JSON.parse(fixture('expected-values.json'));
const APP_ID = expected.appId as string;
const keyPem = fixture('test-app-key.TEST-ONLY.pem');
const certPem = fixture('test-app-cert.TEST-ONLY.pem');
// compute-examples.mjs: signing-time = msg-time = 2019-01-15T10:20:30.000Z, version hv-gateway/0.1.0.
const header = { language: 'en', country: 'US', msgTime: '2019-01-15T10:20:30.000Z', msgTtl: 1800, version: 'hv-gateway/0.1.0' };

t.test('thumbprint', async (t) => {
  t.equal(certificateThumbprint(certPem), expected.session.certificateThumbprint);
  t.equal(certificateThumbprint(new X509Certificate(certPem)), expected.session.certificateThumbprint);
});

t.test('reproduces createauthenticatedsessiontoken2-request.xml byte for byte', async (t) => {
  const xml = buildCastRequest({ ...header, appId: APP_ID, credential: { privateKey: keyPem, certificate: certPem } });
  t.equal(xml, fixture('createauthenticatedsessiontoken2-request.xml'));
});

t.test('parses and verifies the fixture request', async (t) => {
  const parsed = parseCastRequest(fixture('createauthenticatedsessiontoken2-request.xml'));
  t.equal(parsed.appId, APP_ID);
  t.equal(parsed.request.appId, APP_ID);
  t.equal(parsed.contentAppId, APP_ID);
  t.equal(parsed.hmacAlgorithm, 'HMACSHA256');
  t.equal(parsed.signingTime, '2019-01-15T10:20:30.000Z');
  t.equal(parsed.rawContent, expected.session.contentSigned);
  t.same(parsed.credential, {
    kind: 'sig', signature: expected.session.sigBase64, digestMethod: 'SHA1', sigMethod: 'RSA-SHA1', thumbprint: expected.session.certificateThumbprint,
  });
  t.equal(verifyCastSignature(parsed, certPem), true);
  t.equal(verifyCastHmacSig(parsed, Buffer.alloc(32)), false, 'wrong credential kind');
  t.equal(parseCastRequest(parseRequest(fixture('createauthenticatedsessiontoken2-request.xml'))).appId, APP_ID, 'from a parsed envelope');
});

t.test('signature verification rejects tampering and the wrong certificate', async (t) => {
  const xml = fixture('createauthenticatedsessiontoken2-request.xml');
  const tampered = parseCastRequest(xml.replace('<signing-time>2019-01-15T10:20:30.000Z', '<signing-time>2029-01-15T10:20:30.000Z'));
  t.equal(verifyCastSignature(tampered, certPem), false);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const content = expected.session.contentSigned as string;
  const forged = buildCastInfo({ appId: APP_ID, signingTime: header.msgTime, credential: { privateKey: keyPem, certificate: certPem } })
    .replace(expected.session.sigBase64, sign('sha1', Buffer.from(content), privateKey).toString('base64'));
  t.equal(verifyCastSignature(parseCastInfo(forged), certPem), false, 'signed by another key, same thumbprint');
  t.throws(() => buildCastInfo({ appId: APP_ID, signingTime: header.msgTime, credential: { privateKey, certificate: certPem } }),
    { code: 'HVG_ERR_VALIDATION', message: /does not match/ }, 'builder catches a key/certificate mismatch');
  t.throws(() => buildCastInfo({ appId: APP_ID, signingTime: header.msgTime, credential: { privateKey: 'nope', certificate: certPem } }),
    { code: 'HVG_ERR_VALIDATION', message: /cannot be used/ });
  const wrongThumb = parseCastRequest(xml.replace(expected.session.certificateThumbprint, '0'.repeat(40)));
  t.equal(verifyCastSignature(wrongThumb, certPem), false);
  const lowerThumb = parseCastRequest(xml.replace(expected.session.certificateThumbprint, expected.session.certificateThumbprint.toLowerCase()));
  t.equal(verifyCastSignature(lowerThumb, certPem), true, 'thumbprint compared case-insensitively');
  const md5 = parseCastRequest(xml.replace('sigMethod="RSA-SHA1"', 'sigMethod="RSA-MD5"'));
  t.equal(verifyCastSignature(md5, certPem), false);
  const garbage = parseCastRequest(xml.replace(expected.session.sigBase64, 'AAAA'));
  t.equal(verifyCastSignature(garbage, certPem), false);
  t.equal(verifyCastSignature(parseCastRequest(xml), 'not a certificate'), false, 'bad certificate input → false');
});

t.test('hmacSig (SODA) credential', async (t) => {
  const secret = Buffer.alloc(32, 7);
  const xml = buildCastRequest({
    ...header, appId: APP_ID, isMultiRecordApp: true, hmacAlgorithm: 'HMACSHA1', signingTime: new Date('2019-01-15T10:20:00Z'),
    credential: { sharedSecret: secret.toString('base64'), algorithm: 'HMACSHA256' },
  });
  const parsed = parseCastRequest(xml);
  t.equal(parsed.isMultiRecordApp, true);
  t.equal(parsed.hmacAlgorithm, 'HMACSHA1');
  t.equal(parsed.signingTime, '2019-01-15T10:20:00.000Z');
  t.match(parsed.credential, { kind: 'hmacSig', algName: 'HMACSHA256' });
  t.equal(verifyCastHmacSig(parsed, secret), true);
  t.equal(verifyCastHmacSig(parsed, secret.toString('base64')), true);
  t.equal(verifyCastHmacSig(parsed, Buffer.alloc(32, 8)), false);
  t.equal(verifyCastSignature(parsed, certPem), false);
});

t.test('reproduces createauthenticatedsessiontoken2-response.xml and parses it', async (t) => {
  const xml = buildCastResponse({ appId: APP_ID, token: expected.session.sessionToken, sharedSecret: expected.session.sessionSharedSecretBase64 });
  t.equal(xml, fixture('createauthenticatedsessiontoken2-response.xml'));
  t.same(parseCastResponse(xml), {
    appId: APP_ID, token: expected.session.sessionToken, sharedSecret: expected.session.sessionSharedSecretBase64, appRecordAuthAction: 'NoActionRequired',
  });
});

t.test('negative cases', async (t) => {
  const req = fixture('createauthenticatedsessiontoken2-request.xml');
  const unexpectedCases: Record<string, string> = {
    otherMethod: req.replace('<method>CreateAuthenticatedSessionToken</method>', '<method>GetThings</method>'),
    version1: req.replace('<method-version>2</method-version>', '<method-version>1</method-version>'),
    noSig: req.replace(/<sig [^>]*>[^<]*<\/sig>/, ''),
    twoSigs: req.replace('<content>', '<hmacSig algName="HMACSHA256">AAAA</hmacSig><content>'),
    noContent: req.replace(/<content>.*<\/content>/, ''),
    badAppId: req.replace('<auth-info><app-id>7a9c3e51', '<auth-info><app-id>xa9c3e51'),
    badTime: req.replace('<signing-time>2019-01-15T10:20:30.000Z', '<signing-time>yesterday'),
    noThumbprint: req.replace(/ thumbprint="[^"]*"/, ''),
  };
  for (const [name, xml] of Object.entries(unexpectedCases)) t.throws(() => parseCastRequest(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
  const resp = fixture('createauthenticatedsessiontoken2-response.xml');
  const respCases: Record<string, string> = {
    noToken: resp.replace(/<token .*<\/token>/, ''),
    badAction: resp.replace('NoActionRequired', 'Whatever'),
    badAppId: resp.replace('app-id="7a9c3e51', 'app-id="za9c3e51'),
    badSecret: resp.replace(expected.session.sessionSharedSecretBase64, '***'),
    wrongInfo: resp.replace('CreateAuthenticatedSessionToken2', 'CreateAuthenticatedSessionToken'),
  };
  for (const [name, xml] of Object.entries(respCases)) t.throws(() => parseCastResponse(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
  t.throws(() => parseCastResponse('<response><status><code>6</code><error><message>app?</message></error></status></response>'), { code: 'HVG_ERR_HV_STATUS' });
  t.throws(() => buildCastResponse({ appId: 'x', token: 't', sharedSecret: 'AAAA' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildCastRequest({ ...header, appId: APP_ID, credential: { sharedSecret: '%%%' } }), { code: 'HVG_ERR_VALIDATION' });
});
