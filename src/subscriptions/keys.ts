// Notification keys are derived, never stored (docs/architecture.md "Decisions"):
//   key = HKDF-SHA256(ikm = master secret, salt = KEY_SALT, info = instanceId NUL name NUL keyVersionId) → 64 bytes
// 64 bytes is what HealthVault requires of a notification key (healthvault-protocol.md §1.2).
// Every (instance, subscription, version) gets its own key, so a body signed with the US key
// never verifies on an EU path: the instance tag is authenticated by the key.
import { hkdfSync } from 'node:crypto';

const KEY_BYTES = 64;
const KEY_SALT = Buffer.from('hv-gateway/notification-key/v1');
/** Shortest master secret accepted (bytes). */
export const MASTER_SECRET_MIN_BYTES = 32;

/** HealthVault key version id for our integer key version (pattern [a-zA-Z0-9-]{1,50}). */
export const keyVersionId = (version: number): string => `v${version}`;

/** Our integer key version from a HealthVault key version id, or undefined when it is not one of ours. */
export function parseKeyVersionId(id: string): number | undefined {
  const m = /^v([1-9]\d{0,8})$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

export class KeyDeriver {
  readonly #secret: Buffer;
  // Derivation costs a few µs; the data path asks for the same few keys over and over.
  readonly #cache = new Map<string, Buffer>();

  constructor(masterSecret: string | Buffer) {
    const secret = typeof masterSecret === 'string' ? Buffer.from(masterSecret, 'utf8') : Buffer.from(masterSecret);
    if (secret.length < MASTER_SECRET_MIN_BYTES) throw new RangeError(`the master secret must be at least ${MASTER_SECRET_MIN_BYTES} bytes`);
    this.#secret = secret;
  }

  key(instanceId: string, name: string, version: number): Buffer {
    const info = `${instanceId}\u0000${name}\u0000${keyVersionId(version)}`;
    let k = this.#cache.get(info);
    if (k === undefined) {
      if (instanceId.includes('\u0000') || name.includes('\u0000')) throw new RangeError('NUL in key derivation input');
      k = Buffer.from(hkdfSync('sha256', this.#secret, KEY_SALT, info, KEY_BYTES));
      if (this.#cache.size > 10_000) this.#cache.clear(); // bounded: ~25 subscriptions × instances × 2 versions in practice
      this.#cache.set(info, k);
    }
    return k;
  }

  /** Never print the secret or keys (pino, util.inspect, JSON). */
  toJSON(): string {
    return '[KeyDeriver]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[KeyDeriver]';
  }
}
