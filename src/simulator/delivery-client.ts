// Outgoing notification POSTs (healthvault-protocol.md §2.1, §2.7): one undici Agent for every
// instance's deliveries, explicit connect/header/body timeouts, every response body dumped.
// Only HTTP 200 counts as delivered; the caller decides about retries.
import { Agent, request } from 'undici';
import type { DeliveryRewrite } from './sim-config.ts';

export interface DeliveryOutcome {
  /** HTTP status when an answer came back. */
  readonly status: number | undefined;
  /** Connection error, timeout, … when none did. */
  readonly error: string | undefined;
  readonly durationMs: number;
}

/**
 * HealthVault only delivers to https URLs, and the subscription keeps its https URL; tests run
 * receivers on plain http, so rewrites apply only at POST time (first matching prefix wins).
 */
function rewriteUrl(url: string, rewrites: readonly DeliveryRewrite[]): string {
  for (const r of rewrites) if (url.startsWith(r.from)) return r.to + url.slice(r.from.length);
  return url;
}

export class DeliveryClient {
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  rewrites: readonly DeliveryRewrite[];

  constructor(options: { timeoutMs: number; rewrites: readonly DeliveryRewrite[] }) {
    this.#timeoutMs = options.timeoutMs;
    this.rewrites = options.rewrites;
    this.#agent = new Agent({
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
      connections: 256,
    });
  }

  /** POSTs a signed body; never throws. */
  async post(url: string, authorization: string, body: string): Promise<DeliveryOutcome & { readonly target: string }> {
    const target = rewriteUrl(url, this.rewrites);
    const started = performance.now();
    try {
      const res = await request(target, {
        dispatcher: this.#agent,
        method: 'POST',
        // The platform's Content-Type is undocumented; text/xml is the best guess [I] (§2.1).
        headers: { authorization, 'content-type': 'text/xml; charset=utf-8' },
        body,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      // The body of the answer is ignored [I] (§2.7), but always consumed so the socket is reused.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      return { target, status: res.statusCode, error: undefined, durationMs: performance.now() - started };
    } catch (err) {
      const e = err as { code?: string; name?: string; message?: string };
      const error = e.name === 'TimeoutError' ? `timeout after ${this.#timeoutMs} ms` : `${e.code ?? e.name ?? 'Error'}: ${e.message ?? String(err)}`;
      return { target, status: undefined, error, durationMs: performance.now() - started };
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy().catch(() => undefined);
  }
}
