// Settings of the admin API (composed into src/config.ts).
import { ConfigValueError, int, setting } from './config-kit.ts';

const tokens = (raw: string): string[] => {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigValueError('must list at least one token');
  for (const t of list) if (t.length < 16 || /\s/.test(t)) throw new ConfigValueError('tokens must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  return list;
};

export const ADMIN_SETTINGS = {
  adminTokens: setting('ADMIN_TOKENS', 'Bearer tokens accepted by the admin API (/v1/*, /openapi.json), comma-separated; more than one allows rotation.', undefined, tokens, { secret: true }),
  adminPort: setting('ADMIN_PORT', 'Serve the admin API and /metrics on this port only (0 = on PORT with the notification route).', 0, int(0, 65535)),
} as const;
