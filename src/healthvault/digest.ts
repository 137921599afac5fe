// Hashes, HMACs and constant-time comparison for the platform envelope (healthvault-protocol.md
// §4.2: info-hash and auth/hmac-data) and the notification MAC (§2.4).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** `hash-data/@algName` values: the .NET SDKs send SHA256, python clients SHA1 [S][C] (§4.2). */
export type HashAlgorithm = 'SHA256' | 'SHA1';
/** `hmac-data/@algName` and CAST `content/hmac` values [S][C] (§4.2, §4.4). */
export type HmacAlgorithm = 'HMACSHA256' | 'HMACSHA1';

const HASH_NODE_NAMES: Record<HashAlgorithm, string> = { SHA256: 'sha256', SHA1: 'sha1' };
const HMAC_NODE_NAMES: Record<HmacAlgorithm, string> = { HMACSHA256: 'sha256', HMACSHA1: 'sha1' };

/** Maps an algName attribute to a supported hash; exact spelling as the SDKs write it. */
export function hashAlgorithmOf(algName: string): HashAlgorithm | undefined {
  return algName === 'SHA256' || algName === 'SHA1' ? algName : undefined;
}

export function hmacAlgorithmOf(algName: string): HmacAlgorithm | undefined {
  return algName === 'HMACSHA256' || algName === 'HMACSHA1' ? algName : undefined;
}

function utf8(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export function computeHash(algorithm: HashAlgorithm, data: string | Uint8Array): Buffer {
  return createHash(HASH_NODE_NAMES[algorithm]).update(utf8(data)).digest();
}

/** A KeyObject key avoids re-importing the key on every call (about 2.5x faster for 1.6 KB). */
export function computeHmac(algorithm: HmacAlgorithm, key: Uint8Array | KeyObject, data: string | Uint8Array): Buffer {
  return createHmac(HMAC_NODE_NAMES[algorithm], key).update(utf8(data)).digest();
}

/**
 * Constant-time equality for MACs and digests. Lengths are public (digest sizes are fixed), so a
 * length mismatch returns false straight away; equal lengths go through crypto.timingSafeEqual.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
