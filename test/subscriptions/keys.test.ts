import t from 'tap';
import { inspect } from 'node:util';
import { hkdfSync } from 'node:crypto';
import { KeyDeriver, keyVersionId, parseKeyVersionId } from '../../src/subscriptions/keys.ts';

const secret = 'test-master-secret-0123456789-abcdefghijklmnop';

t.test('64-byte keys, distinct per instance, name and version, stable across instances of the deriver', async (t) => {
  const d = new KeyDeriver(secret);
  const k = d.key('1', 'glucose', 1);
  t.equal(k.length, 64);
  t.same(new KeyDeriver(secret).key('1', 'glucose', 1), k, 'deterministic: every replica derives the same key');
  t.not(d.key('2', 'glucose', 1).toString('hex'), k.toString('hex'), 'other instance');
  t.not(d.key('1', 'weight', 1).toString('hex'), k.toString('hex'), 'other subscription');
  t.not(d.key('1', 'glucose', 2).toString('hex'), k.toString('hex'), 'other version');
  t.not(new KeyDeriver(secret + 'x').key('1', 'glucose', 1).toString('hex'), k.toString('hex'), 'other master secret');
  // boundaries are unambiguous: ("1", "2x") ≠ ("12", "x")
  t.not(d.key('1', '2x', 1).toString('hex'), d.key('12', 'x', 1).toString('hex'));
  // the documented construction
  const expected = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.from('hv-gateway/notification-key/v1'), '1\u0000glucose\u0000v1', 64));
  t.same(k, expected);
});

t.test('short secrets are refused; the deriver never prints secrets', async (t) => {
  t.throws(() => new KeyDeriver('short'), RangeError);
  const d = new KeyDeriver(secret);
  t.equal(inspect(d), '[KeyDeriver]');
  t.equal(JSON.stringify({ d }), '{"d":"[KeyDeriver]"}');
  t.notMatch(inspect(d), /master/);
});

t.test('key version ids', async (t) => {
  t.equal(keyVersionId(7), 'v7');
  t.equal(parseKeyVersionId('v7'), 7);
  t.equal(parseKeyVersionId('v0'), undefined);
  t.equal(parseKeyVersionId('7'), undefined);
  t.equal(parseKeyVersionId('gw-2019-01-a'), undefined);
});
