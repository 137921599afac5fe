import t from 'tap';
import {
  bytesFrom, dateTimeText, decodeBase64Strict, decodeNotificationKey, isDateTime, isGuid, isHttpsUrl, isKeyVersionId, preview, requireGuid,
} from '../../src/healthvault/validation.ts';

t.test('GUID pattern (wc-types:guid)', async (t) => {
  t.ok(isGuid('4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218'));
  t.ok(isGuid('4F2D9B1E-8C3A-4E57-A1D6-93B7C0E5F218'));
  for (const bad of ['', '{4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218}', '4f2d9b1e8c3a4e57a1d693b7c0e5f218', '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f21g', ' 4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218']) {
    t.notOk(isGuid(bad), bad);
  }
  t.throws(() => requireGuid('x', 'thing'), { code: 'HVG_ERR_VALIDATION', message: /thing must be a GUID/ });
});

t.test('key version id ^[a-zA-Z0-9-]{1,50}$', async (t) => {
  for (const ok of ['1', 'gw-2019-01-a', 'a'.repeat(50), '-']) t.ok(isKeyVersionId(ok), ok);
  for (const bad of ['', 'a'.repeat(51), 'a_b', 'a b', 'a:b', 'é']) t.notOk(isKeyVersionId(bad), bad);
});

t.test('strict base64 and the 64-byte notification key', async (t) => {
  t.same(decodeBase64Strict('AAEC'), Buffer.from([0, 1, 2]));
  t.same(decodeBase64Strict('AAE='), Buffer.from([0, 1]));
  for (const bad of ['', 'AAE', 'AA-_', 'AA==AA==', 'A===', ' AAEC', 'AAEC\n']) t.equal(decodeBase64Strict(bad), undefined, JSON.stringify(bad));
  t.same(decodeBase64Strict(' AA\nEC\r\n', true), Buffer.from([0, 1, 2]), 'whitespace ignored on request');
  const key = Buffer.alloc(64, 9).toString('base64');
  t.equal(decodeNotificationKey(key)?.length, 64);
  t.equal(decodeNotificationKey(`${key.slice(0, 76)}\n${key.slice(76)}\n`)?.length, 64, 'wrapped like base64.encodestring');
  t.equal(decodeNotificationKey(Buffer.alloc(63).toString('base64')), undefined);
  t.equal(decodeNotificationKey(Buffer.alloc(65).toString('base64')), undefined);
  t.same(bytesFrom(new Uint8Array([1, 2]), 'x'), Buffer.from([1, 2]));
  t.throws(() => bytesFrom('**', 'secret'), { code: 'HVG_ERR_VALIDATION', message: /secret/ });
});

t.test('https URLs, dates, previews', async (t) => {
  t.ok(isHttpsUrl('https://gateway.example.com/hv/notifications/us'));
  for (const bad of ['http://x.example.com/', 'https://', 'HTTPS://x.example.com/', 'ftp://x', `https://x.example.com/${'a'.repeat(1100)}`]) t.notOk(isHttpsUrl(bad), bad.slice(0, 30));
  for (const ok of ['2019-01-15T10:20:30.000Z', '2019-01-15T08:00:00', '2019-01-15T08:00:00+01:00']) t.ok(isDateTime(ok), ok);
  for (const bad of ['2019-01-15', '2019-01-15 08:00:00', 'now']) t.notOk(isDateTime(bad), bad);
  t.equal(dateTimeText(new Date(Date.UTC(2019, 0, 15, 10, 20, 30)), 'x'), '2019-01-15T10:20:30.000Z');
  t.throws(() => dateTimeText('tomorrow', 'msgTime'), { code: 'HVG_ERR_VALIDATION', message: /msgTime/ });
  t.equal(preview('x'.repeat(100), 4), '"xxxx…"');
});
