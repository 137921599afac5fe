// Settings of the admin API and its listener (composed in ./index.ts).
import { ConfigValueError, int, setting } from './kit.ts';

const tokens = (raw: string): string[] => {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigValueError('must list at least one token');
  for (const t of list) if (t.length < 16 || /\s/.test(t)) throw new ConfigValueError('tokens must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  return list;
};

/** A port number (0 = a free port chosen at start), or 'shared' = everything on PORT. */
export type AdminPort = number | 'shared';

const adminPort = (raw: string): AdminPort => (raw.toLowerCase() === 'shared' ? 'shared' : int(0, 65535)(raw));

export const ADMIN_SETTINGS = {
  adminTokens: setting('ADMIN_TOKENS', 'Bearer tokens accepted by the admin API (/v1/*, /openapi.json), comma-separated; more than one allows rotation.', undefined, tokens, { secret: true }),
  adminPort: setting<AdminPort>('ADMIN_PORT', 'Port of the admin listener (/v1/*, /openapi.json, /metrics; /healthz and /readyz too): 0 = a free port chosen at start (logged), "shared" = everything on PORT, /metrics then also needs an admin token.', 9090, adminPort),
  adminRateLimit: setting('ADMIN_RATE_LIMIT', 'Requests per client address per minute on the admin listener (admin API, /metrics, console), counted before the token check so guessing tokens is slow too; 429 above it. 0 = no limit.', 1200, int(0, 1_000_000)),
} as const;
