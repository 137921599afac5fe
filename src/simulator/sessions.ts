// Authenticated app sessions of one instance (healthvault-protocol.md §4.4): CAST v2 issues an
// opaque token and a server-chosen shared secret that keys every later request HMAC with the
// algorithm the app named in content/hmac. Sessions are per instance [I]: a token from another
// instance is unknown here.
import { randomBytes } from 'node:crypto';
import type { HmacAlgorithm } from '../healthvault/index.ts';

export interface SimSession {
  readonly token: string;
  readonly appId: string;
  readonly sharedSecret: Buffer;
  readonly hmacAlgorithm: HmacAlgorithm;
  readonly issuedAt: number;
  expiresAt: number;
}

/** Bound on remembered sessions so a CAST flood cannot grow memory without limit. */
const MAX_SESSIONS = 100_000;

export class SessionStore {
  readonly #sessions = new Map<string, SimSession>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  issue(appId: string, hmacAlgorithm: HmacAlgorithm, now = Date.now()): SimSession {
    this.#prune(now);
    // Real tokens were long opaque base64 blobs (fixture createauthenticatedsessiontoken2-response.xml);
    // 32 random bytes of secret like that fixture's [I].
    const session: SimSession = {
      token: randomBytes(96).toString('base64'),
      appId,
      sharedSecret: randomBytes(32),
      hmacAlgorithm,
      issuedAt: now,
      expiresAt: now + this.#ttlMs,
    };
    this.#sessions.set(session.token, session);
    return session;
  }

  get(token: string): SimSession | undefined {
    return this.#sessions.get(token);
  }

  /** The "expire tokens now" fault: every session of this instance answers 65 from now on. */
  expireAll(now = Date.now()): number {
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (s.expiresAt > now) n += 1;
      s.expiresAt = Math.min(s.expiresAt, now - 1);
    }
    return n;
  }

  /** Restart/failover: every token becomes unknown. */
  forgetAll(): number {
    const n = this.#sessions.size;
    this.#sessions.clear();
    return n;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Forget sessions long expired (an unknown token is answered like an expired one anyway). */
  #prune(now: number): void {
    if (this.#sessions.size < 1000) return;
    for (const [token, s] of this.#sessions) {
      if (s.expiresAt + this.#ttlMs < now || this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(token);
      else if (this.#sessions.size < MAX_SESSIONS) break;
    }
  }
}
