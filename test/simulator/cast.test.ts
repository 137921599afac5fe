// CreateAuthenticatedSessionToken v2 against the simulator over real HTTP (healthvault-protocol.md §4.4).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAnonymousRequest, buildCastInfo, buildCastRequest, buildGetEventSubscriptionsInfo, certificateThumbprint, parseCastResponse,
  parseGetEventSubscriptionsResponse,
} from '../../src/healthvault/index.ts';
import { APP_ID, APP_CERT_PEM, HEADER, APP_KEY_PEM, TEST_APP, call, cast, castXml, client, platform, startSim } from './helpers.ts';

const OTHER_APP = '0b5d2e8f-4a13-4d8e-9c61-7a9c3e512f4b';

t.test('happy path: token and shared secret, then an authenticated call succeeds', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  const answer = await platform(t, agent, url, castXml());
  t.equal(answer.code, 0);
  t.equal(answer.infoName, 'CreateAuthenticatedSessionToken2');
  const session = parseCastResponse(answer);
  t.equal(session.appId, APP_ID);
  t.equal(Buffer.from(session.sharedSecret, 'base64').length, 32, 'server-chosen 32-byte secret');
  t.ok(session.token.length > 40, 'opaque token');
  const again = parseCastResponse(await platform(t, agent, url, castXml()));
  t.not(again.token, session.token, 'every CAST issues a new session');
  t.not(again.sharedSecret, session.sharedSecret);

  const s = await cast(t, agent, url);
  const list = await call(t, agent, s, 'GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo());
  t.same(parseGetEventSubscriptionsResponse(list), []);
  t.same(sim.instance('1').stats().requests.CreateAuthenticatedSessionToken, { 0: 3 }, 'stats count CAST calls');
});

t.test('HMACSHA1 sessions sign with HMAC-SHA1', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('2').info.platformUrl, 'HMACSHA1');
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 1, '<info/>')).code, 0);
  const wrongAlg = await call(t, agent, s, 'GetEventSubscriptions', 1, '<info/>', { hmacAlgorithm: 'HMACSHA256' });
  t.equal(wrongAlg.code, 4, 'an algorithm other than the session one is refused');
});

t.test('wrong key, unknown thumbprint, unknown app, tampered content', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;

  // A real second certificate (openssl is part of the base image) with its own thumbprint.
  const dir = mkdtempSync(join(tmpdir(), 'hv-sim-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', `/CN=WildcatApp-${APP_ID}`,
    '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const otherCert = readFileSync(join(dir, 'c.pem'), 'utf8');
  const otherKey = readFileSync(join(dir, 'k.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  const unknownThumb = await platform(t, agent, url, castXml({ privateKey: otherKey, certificate: otherCert }));
  t.equal(unknownThumb.code, 4, 'a certificate not registered for the app → 4');
  t.match(unknownThumb.error?.message, /no certificate with thumbprint/);

  // Signed by another key but claiming the registered certificate's thumbprint.
  const forged = castXml({ privateKey: otherKey, certificate: otherCert }).replace(certificateThumbprint(otherCert), certificateThumbprint(APP_CERT_PEM));
  const sameThumb = await platform(t, agent, url, forged);
  t.equal(sameThumb.code, 4, 'signed by another key under the registered thumbprint → 4');
  t.match(sameThumb.error?.message, /does not verify/);

  const unknownApp = await platform(t, agent, url, castXml({ appId: OTHER_APP }));
  t.equal(unknownApp.code, 6, 'unknown app → 6 INVALID_APP');

  const tampered = castXml().replace(/<signing-time>[^<]+</, `<signing-time>${new Date(Date.now() + 1000).toISOString()}<`);
  t.equal((await platform(t, agent, url, tampered)).code, 4, 'content changed after signing → 4');

  const mismatch = buildAnonymousRequest({
    ...HEADER, msgTime: new Date(), method: 'CreateAuthenticatedSessionToken', methodVersion: 2, appId: APP_ID,
    info: buildCastInfo({ appId: OTHER_APP, signingTime: new Date(), credential: { privateKey: APP_KEY_PEM, certificate: APP_CERT_PEM } }),
  });
  t.equal((await platform(t, agent, url, mismatch)).code, 4, 'content app-id other than the header app-id → 4');
});

t.test('signing-time outside the allowed skew → 49', async (t) => {
  const sim = await startSim(t, { signingTimeSkewSeconds: 60 });
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  const stale = await platform(t, agent, url, castXml({ signingTime: new Date(Date.now() - 5 * 60_000) }));
  t.equal(stale.code, 49);
  t.match(stale.error?.message, /signing-time/);
  const future = await platform(t, agent, url, castXml({ signingTime: new Date(Date.now() + 5 * 60_000) }));
  t.equal(future.code, 49, 'too far in the future too');
  t.equal((await platform(t, agent, url, castXml({ signingTime: new Date(Date.now() - 30_000) }))).code, 0, 'within the skew');
});

t.test('per-instance app configuration and SODA shared-secret apps', async (t) => {
  const secret = randomBytes(32);
  const sim = await startSim(t, {
    applications: [
      { ...TEST_APP, instances: ['1'] },
      { appId: OTHER_APP, sharedSecret: secret.toString('base64'), actionUrl: 'https://soda.test/app/' },
    ],
  });
  const agent = client(t);
  t.equal((await platform(t, agent, sim.instance('1').info.platformUrl, castXml())).code, 0);
  t.equal((await platform(t, agent, sim.instance('2').info.platformUrl, castXml())).code, 6, 'app not configured in instance 2 → 6');

  const soda = (key: Buffer) => buildCastRequest({ ...HEADER, msgTime: new Date(), appId: OTHER_APP, credential: { sharedSecret: key } });
  t.equal((await platform(t, agent, sim.instance('2').info.platformUrl, soda(secret))).code, 0, 'hmacSig with the registered secret');
  t.equal((await platform(t, agent, sim.instance('2').info.platformUrl, soda(randomBytes(32)))).code, 4, 'hmacSig with another secret → 4');
  t.equal((await platform(t, agent, sim.instance('2').info.platformUrl, castXml({ appId: OTHER_APP }))).code, 4, 'certificate for a secret-only app → 4');
});

t.test('a token is valid only in the instance that issued it', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const us = await cast(t, agent, sim.instance('1').info.platformUrl);
  const onEu = await call(t, agent, { ...us, url: sim.instance('2').info.platformUrl }, 'GetEventSubscriptions', 1, '<info/>');
  t.equal(onEu.code, 65, 'unknown token → 65 so the client re-authenticates [I]');
});
