import t from 'tap';
import { createSecretKey } from 'node:crypto';
import { computeHash, computeHmac, constantTimeEqual, hashAlgorithmOf, hmacAlgorithmOf } from '../../src/healthvault/digest.ts';

t.test('algorithm names as the SDKs write them', async (t) => {
  t.equal(hashAlgorithmOf('SHA256'), 'SHA256');
  t.equal(hashAlgorithmOf('SHA1'), 'SHA1');
  t.equal(hashAlgorithmOf('sha256'), undefined);
  t.equal(hashAlgorithmOf('MD5'), undefined);
  t.equal(hmacAlgorithmOf('HMACSHA256'), 'HMACSHA256');
  t.equal(hmacAlgorithmOf('HMACSHA1'), 'HMACSHA1');
  t.equal(hmacAlgorithmOf('HMACSHA512'), undefined);
});

t.test('known answers', async (t) => {
  t.equal(computeHash('SHA256', 'abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(computeHash('SHA1', Buffer.from('abc')).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  // RFC 4231 test case 2
  t.equal(computeHmac('HMACSHA256', Buffer.from('Jefe'), 'what do ya want for nothing?').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  t.equal(computeHmac('HMACSHA256', createSecretKey(Buffer.from('Jefe')), 'what do ya want for nothing?').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  // RFC 2202 test case 2
  t.equal(computeHmac('HMACSHA1', Buffer.from('Jefe'), 'what do ya want for nothing?').toString('hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
});

t.test('constant-time equality', async (t) => {
  t.equal(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 2])), true);
  t.equal(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 3])), false);
  t.equal(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 2, 3])), false, 'length mismatch is false, not a throw');
});
