// Shared setup of the instances tests: a real simulator (every platform on its own port 0) and
// the gateway's registry pointed at it, both torn down by tap.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { Test } from 'tap';
import { parseSettings } from '../../src/config/kit.ts';
import { InstanceRegistry } from '../../src/instances/registry.ts';
import { INSTANCE_SETTINGS, checkInstanceSettings, type InstanceSettings } from '../../src/config/instances.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { APP_CERT_PEM, APP_ID, APP_KEY_PEM, WEIGHT } from '../../support/fixtures.ts';

export { APP_CERT_PEM, APP_ID, GLUCOSE, WEIGHT } from '../../support/fixtures.ts';
export { startSim } from '../helpers/sim.ts';
export const CAST = 'CreateAuthenticatedSessionToken';
export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Settings as loadConfig would parse them (the same parseSettings), with test-sized timeouts; throws naming the variable. */
export function settings(env: Record<string, string>): InstanceSettings {
  const full: Record<string, string> = {
    HV_APP_ID: APP_ID, HV_APP_CERT: APP_CERT_PEM, HV_APP_PRIVATE_KEY: APP_KEY_PEM,
    HV_CONNECT_TIMEOUT_MS: '500', HV_REQUEST_TIMEOUT_MS: '1000', HV_MAX_RETRIES: '2', HV_RETRY_BASE_MS: '20', HV_RETRY_MAX_MS: '100',
    HV_TOPOLOGY_REFRESH_MS: '600000',
    ...env,
  };
  const { values, problems } = parseSettings(INSTANCE_SETTINGS, full);
  if (problems.length === 0) problems.push(...checkInstanceSettings(values));
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
  return values;
}

export const platformUrl = (sim: Simulator, id: string): string => sim.instance(id).info.platformUrl;

/** Discovery from instance "1" (the default), unless env says otherwise. */
export function discoverySettings(sim: Simulator, env: Record<string, string> = {}): InstanceSettings {
  return settings({ HV_DISCOVERY_URL: platformUrl(sim, '1'), ...env });
}

export function registry(t: Test, s: InstanceSettings, refusalHoldMs?: number): InstanceRegistry {
  const r = new InstanceRegistry({ settings: s, logger, ...(refusalHoldMs === undefined ? {} : { refusalHoldMs }) });
  t.teardown(() => r.close());
  return r;
}

/** Requests the simulated instance answered for `method`, by status ("0", "65", …, "http500"). */
export function simCount(sim: Simulator, id: string, method: string, status?: string): number {
  const byStatus = sim.instance(id).stats().requests[method] ?? {};
  return status === undefined ? Object.values(byStatus).reduce((a, b) => a + b, 0) : byStatus[status] ?? 0;
}

/** A self-signed certificate + key the simulator has never seen (a "wrong certificate"). */
export async function otherCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hvg-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', `/CN=WildcatApp-${APP_ID}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A subscription the simulator accepts (URL under the app's ActionURL root). */
export const write = (name: string, typeIds: string[] = [WEIGHT], keyVersionId = 'v1') => ({
  url: `https://gw.test/hv/notifications/${name}`, typeIds, keyVersionId, key: Buffer.alloc(64, 7),
});
