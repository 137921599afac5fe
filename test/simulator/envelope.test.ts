// Every status code of the request pipeline, triggered over real HTTP with requests the codec
// builds (healthvault-protocol.md §4.1–4.5).
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { buildGetEventSubscriptionsInfo, buildGetServiceDefinitionInfo } from '../../src/healthvault/index.ts';
import { anonymous, call, cast, client, platform, post, signed, startSim, TEST_APP } from './helpers.ts';

const LIST = ['GetEventSubscriptions', 1, buildGetEventSubscriptionsInfo()] as const;

t.test('3 INVALID_XML: unparseable, wrong root, DOCTYPE, empty, bad encoding', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  for (const [what, body] of [
    ['not XML', 'hello'],
    ['truncated', anonymous('GetServiceDefinition', 2, '<info/>').slice(0, 80)],
    ['wrong root namespace', anonymous('GetServiceDefinition', 2, '<info/>').replaceAll('urn:com.microsoft.wc.request', 'urn:other')],
    ['DOCTYPE', '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'],
    ['empty body', ''],
  ] as const) {
    t.equal((await platform(t, agent, url, body)).code, 3, what);
  }
  const gz = await platform(t, agent, url, Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
  t.equal(gz.code, 3, 'corrupt gzip');
  t.equal((await platform(t, agent, url, 'x', { 'content-encoding': 'br' })).code, 3, 'unsupported content-encoding');
  const tooBig = await platform(t, agent, url, gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' });
  t.equal(tooBig.code, 39, 'decompression bomb → 39 REQUEST_TOO_LONG');
  t.equal((await platform(t, agent, url, Buffer.alloc(1024 * 1024 + 10, 0x20))).code, 39, 'body over the limit → 39');
});

t.test('gzip and deflate (zlib and raw) bodies are accepted', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  const xml = anonymous('GetServiceDefinition', 2, buildGetServiceDefinitionInfo());
  t.equal((await platform(t, agent, url, gzipSync(xml), { 'content-encoding': 'gzip' })).code, 0, 'gzip');
  t.equal((await platform(t, agent, url, deflateSync(xml), { 'content-encoding': 'deflate' })).code, 0, 'deflate (zlib)');
  t.equal((await platform(t, agent, url, deflateRawSync(xml), { 'content-encoding': 'deflate' })).code, 0, 'deflate (raw, .NET DeflateStream)');
  const s = await cast(t, agent, url);
  t.equal((await platform(t, agent, url, gzipSync(signed(s, ...LIST)), { 'content-encoding': 'gzip' })).code, 0, 'signed + gzip: hashes over the decompressed bytes');
});

t.test('4 BAD_SIG: tampered header HMAC, tampered info, missing auth', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const good = signed(s, ...LIST);
  t.equal((await platform(t, agent, s.url, good)).code, 0, 'untouched request passes');

  const badHmac = good.replace(/(<hmac-data algName="HMACSHA256">)(.)/, (_m, open: string, c: string) => `${open}${c === 'A' ? 'B' : 'A'}`);
  const r1 = await platform(t, agent, s.url, badHmac);
  t.equal(r1.code, 4, 'tampered hmac-data');
  t.match(r1.error?.message, /hmac-data/);
  t.equal((await platform(t, agent, s.url, good.replace('<msg-ttl>1800<', '<msg-ttl>1801<'))).code, 4, 'header changed after signing');
  t.equal((await platform(t, agent, s.url, good.replace('<info/>', '<info></info>'))).code, 4, 'info bytes changed after hashing');
  t.equal((await call(t, agent, { ...s, sharedSecret: Buffer.alloc(32, 1).toString('base64') }, ...LIST)).code, 4, 'signed with another secret');
  const noAuth = good.replace(/<auth>.*<\/auth>/, '');
  t.equal((await platform(t, agent, s.url, noAuth)).code, 4, 'no <auth>');
  const noHash = signed(s, ...LIST).replace(/<info-hash>.*<\/info-hash>/, '');
  t.equal((await platform(t, agent, s.url, noHash)).code, 4, 'no info-hash (and so the HMAC no longer matches)');
});

t.test('5 BAD_METHOD: unknown method or version', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  t.equal((await call(t, agent, s, 'PutThings', 2, '<info/>')).code, 5, 'a method the simulator does not offer');
  t.equal((await call(t, agent, s, 'GetEventSubscriptions', 2, '<info/>')).code, 5, 'known method, unknown version');
  t.equal((await platform(t, agent, s.url, anonymous('GetServiceDefinition', 1, '<info/>'))).code, 5, 'GetServiceDefinition v1 is not simulated');
});

t.test('6 INVALID_APP and 11 ACCESS_DENIED', async (t) => {
  const sim = await startSim(t, { applications: [{ ...TEST_APP, methodGroups: [] }] });
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  const unknown = anonymous('GetServiceDefinition', 2, '<info/>', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  t.equal((await platform(t, agent, url, unknown)).code, 6, 'anonymous call naming an unknown app');
  t.equal((await platform(t, agent, url, anonymous('GetEventSubscriptions', 1, '<info/>'))).code, 11, 'authenticated method called anonymously');
  const s = await cast(t, agent, url);
  const denied = await call(t, agent, s, ...LIST);
  t.equal(denied.code, 11, 'eventing method group not granted');
  t.match(denied.error?.message, /eventing/);
  t.equal((await call(t, agent, s, 'SelectInstance', 1, '<info><preferred-location><country>US</country></preferred-location></info>')).code, 0, 'other methods still work');
});

t.test('49 REQUEST_TIMED_OUT: msg-time + msg-ttl in the past', async (t) => {
  const sim = await startSim(t, { msgTimeSkewSeconds: 0 });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  const old = await call(t, agent, s, ...LIST, { msgTime: new Date(Date.now() - 3600_000), msgTtl: 1800 });
  t.equal(old.code, 49);
  t.equal((await call(t, agent, s, ...LIST, { msgTime: new Date(Date.now() - 60_000), msgTtl: 1800 })).code, 0, 'still inside its ttl');
  t.equal((await call(t, agent, s, ...LIST, { msgTime: new Date(Date.now() - 2000), msgTtl: 1 })).code, 49, 'short ttl');
  const anon = anonymous('GetServiceDefinition', 2, '<info/>').replace(/<msg-time>[^<]+</, '<msg-time>2019-01-15T10:20:30.000Z<');
  t.equal((await platform(t, agent, s.url, anon)).code, 49, 'anonymous requests expire too');
});

t.test('65 AUTHENTICATED_SESSION_TOKEN_EXPIRED: ttl, expire-tokens, unknown token', async (t) => {
  const sim = await startSim(t, { tokenTtlSeconds: 0.3 });
  const agent = client(t);
  const s = await cast(t, agent, sim.instance('1').info.platformUrl);
  t.equal((await call(t, agent, s, ...LIST)).code, 0);
  await sleep(400);
  t.equal((await call(t, agent, s, ...LIST)).code, 65, 'token past its ttl');
  const fresh = await cast(t, agent, s.url);
  t.equal((await call(t, agent, fresh, ...LIST)).code, 0, 'a new CAST recovers');
  t.equal(sim.instance('1').expireTokens(), 1, 'one live session expired');
  t.equal((await call(t, agent, fresh, ...LIST)).code, 65, 'expire-tokens fault');
  t.equal((await call(t, agent, { ...fresh, token: 'bm90LWEtdG9rZW4=' }, ...LIST)).code, 65, 'never-issued token');
});

t.test('answers carry text/xml and WC_ResponseId; other paths are HTTP 404', async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const answer = await post(agent, sim.instance('2').info.platformUrl, anonymous('GetServiceDefinition', 2, '<info/>'));
  t.match(answer.headers['content-type'], /^text\/xml/);
  t.match(answer.headers.wc_responseid, /^[0-9a-f-]{36}$/);
  const elsewhere = await post(agent, sim.instance('2').info.platformUrl.replace('wildcat.ashx', 'other.ashx'), '<x/>');
  t.equal(elsewhere.httpStatus, 404);
});
