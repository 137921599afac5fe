// 10,000 malformed platform requests (random bytes, truncations, byte flips, tag surgery, entity
// bombs, deep nesting, huge attributes, bad encodings): every answer is HTTP 200 with a valid
// response envelope, none is an internal failure (status 1), and the simulator keeps working.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import {
  buildGetServiceDefinitionInfo, buildGetThingsInfo, buildSubscribeToEventInfo, buildUpdateEventSubscriptionInfo, parseResponse,
} from '../../src/healthvault/index.ts';
import { anonymous, call, cast, castXml, client, KEY_A, NOTIFY_URL, signed, startSim, WEIGHT } from './helpers.ts';

const COUNT = Number(process.env.SIM_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.SIM_FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a seeded PRNG so a failing sample can be replayed with SIM_FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test(`${COUNT} fuzzed requests never break the simulator (seed ${SEED})`, async (t) => {
  const sim = await startSim(t);
  const agent = client(t);
  const url = sim.instance('1').info.platformUrl;
  const session = await cast(t, agent, url);
  const rnd = prng(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

  const person = sim.instance('1').createPerson();
  const thing = sim.instance('1').addThing(person.recordId, WEIGHT);
  const sub = { key: KEY_A, keyVersionId: 'v1', url: NOTIFY_URL, typeIds: [[WEIGHT]] };
  // Built once: RSA-signing a CAST per sample would dominate the run time.
  const bases = [
    anonymous('GetServiceDefinition', 2, buildGetServiceDefinitionInfo({ sections: ['topology'] })),
    castXml(),
    signed(session, 'SubscribeToEvent', 1, buildSubscribeToEventInfo(sub)),
    signed(session, 'UpdateEventSubscription', 1, buildUpdateEventSubscriptionInfo({ ...sub, id: '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218' })),
    signed(session, 'GetEventSubscriptions', 1, '<info/>'),
    signed(session, 'GetThings', 3, buildGetThingsInfo({ thingIds: [thing.thingId, WEIGHT] }), { offlinePersonId: person.personId, recordId: person.recordId }),
  ];
  const valid = () => pick(bases);
  const mutators: readonly ((x: string) => string | Buffer)[] = [
    () => Buffer.from(Array.from({ length: int(2048) }, () => int(256))),
    (x) => x.slice(0, int(x.length)),
    (x) => {
      const b = Buffer.from(x);
      for (let i = 0, n = 1 + int(6); i < n; i++) b[int(b.length)] = int(256);
      return b;
    },
    (x) => x.replace(/<[a-z-]+>/g, (m) => (rnd() < 0.1 ? pick(['<info>', '<header>', '<x>', '<auth>', m + m, '']) : m)),
    (x) => x.replace(/<\/[a-z-]+>/, ''),
    (x) => x.replace(/>[^<]+</, `>${pick(['', '-1', '99999999999999999999', 'x'.repeat(5000), '&amp;&lt;', '&bogus;', '\u0000', '💥'])}<`),
    (x) => `<!DOCTYPE r [<!ENTITY a "${'x'.repeat(100)}"><!ENTITY b "&a;&a;&a;&a;&a;">]>${x}`,
    () => `${'<a>'.repeat(int(5000))}${'</a>'.repeat(int(5000))}`,
    (x) => x.replace('<header>', `<header ${Array.from({ length: int(60) }, (_, i) => `a${i}="${'v'.repeat(int(6000))}"`).join(' ')}>`),
    (x) => x.replaceAll('urn:com.microsoft.wc.request', pick(['', 'urn:x', 'urn:com.microsoft.wc.response'])),
    (x) => `\uFEFF${x}`,
    (x) => x.replace(/(<method-version>)\d+/, `$1${pick(['0', '2', '-3', 'abc', '1e9'])}`),
    (x) => x.replace(/<msg-time>[^<]*/, `<msg-time>${pick(['', 'yesterday', '2019-13-45T99:99:99Z', '9999-12-31T23:59:59Z'])}`),
    (x) => Buffer.concat([Buffer.from(x.slice(0, 50)), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from(x.slice(50))]),
    (x) => x + x,
    (x) => x.replace(/algName="[^"]*"/, `algName="${pick(['MD5', '', 'HMACSHA512', 'sha256'])}"`),
  ];

  const counts = new Map<number, number>();
  let nonEnvelope = 0;
  let next = 0;
  const one = async (): Promise<void> => {
    const body = pick(mutators)(valid());
    const headers: Record<string, string> = { 'content-type': pick(['text/xml', 'application/xml', 'application/octet-stream', 'text/plain; charset=utf-16']) };
    let payload: string | Buffer = body;
    const enc = int(10);
    if (enc === 0) {
      payload = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    } else if (enc === 1) {
      headers['content-encoding'] = pick(['gzip', 'deflate', 'br', 'gzip, deflate', 'identity']);
    } else if (enc === 2) {
      payload = gzipSync(body).subarray(0, 10 + int(20));
      headers['content-encoding'] = 'gzip';
    }
    const res = await request(url, { dispatcher: agent, method: 'POST', body: payload, headers });
    const text = await res.body.text();
    try {
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      const parsed = parseResponse(text);
      counts.set(parsed.code, (counts.get(parsed.code) ?? 0) + 1);
      if (parsed.code !== 0 && (parsed.error?.message ?? '') === '') throw new Error('error without a message');
    } catch (err) {
      nonEnvelope += 1;
      if (nonEnvelope <= 3) t.fail(`not a valid envelope (${(err as Error).message}): ${text.slice(0, 200)}`);
    }
  };
  const worker = async () => {
    while (next < COUNT) {
      next += 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));

  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  t.equal(total + nonEnvelope, COUNT, 'every request answered');
  t.equal(nonEnvelope, 0, 'every answer is an HTTP 200 response envelope');
  t.equal(counts.get(1) ?? 0, 0, 'no internal failure (status 1)');
  t.comment(`status codes: ${JSON.stringify(Object.fromEntries([...counts].sort((a, b) => a[0] - b[0])))}`);

  // Still fully working afterwards.
  const fresh = await cast(t, agent, url);
  t.equal((await call(t, agent, fresh, 'GetEventSubscriptions', 1, '<info/>')).code, 0, 'still answers correctly');
  t.equal(sim.instance('1').stats().requests['(unparsed)']?.['3'] !== undefined, true, 'refusals were counted');
});
