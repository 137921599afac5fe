// The one set of constants the tests, the benchmarks, the drills and the demo share: the
// throwaway fixture app identity (certificate and key are TEST-ONLY files of test/fixtures), a
// master secret and an admin token, the public base the simulator's ActionURL matches, and the
// thing types subscriptions use. Data only: nothing here starts anything. HV_DISCOVERY_URL /
// HV_INSTANCES come from the caller (a simulator).
import { readFileSync } from 'node:fs';
import type { ApplicationSpec } from '../src/simulator/sim-config.ts';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/healthvault/${name}`, import.meta.url), 'utf8');

export const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
export const APP_CERT_PEM = fixture('test-app-cert.TEST-ONLY.pem');
export const APP_KEY_PEM = fixture('test-app-key.TEST-ONLY.pem');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const MASTER_SECRET = 'test-master-secret-for-the-gateway-0123456789';

/** PUBLIC_BASE_URL of test gateways: https (HealthVault delivers only there); simulators rewrite it to the gateway's loopback address. */
export const PUBLIC_BASE = 'https://gw.test/hv';
/** The fixture app's ActionURL: callback URLs must share its root (§1.1). */
export const ACTION_URL = `${PUBLIC_BASE}/redirect.aspx`;
/** The fixture app as a simulator registers it. */
export const TEST_APP: ApplicationSpec = { appId: APP_ID, certificates: [APP_CERT_PEM], actionUrl: ACTION_URL };

/** Thing type ids (HealthVault's own: Blood Glucose, Weight, Blood Pressure). */
export const GLUCOSE = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
export const WEIGHT = '3d34d87e-7fc1-4153-800f-f56592cb0d17';
export const PRESSURE = 'ca3c57f4-f4c1-4e15-be67-0a3caf5414ed';

export const requiredEnv = (over: Record<string, string> = {}): Record<string, string> => ({
  PUBLIC_BASE_URL: PUBLIC_BASE,
  HV_MASTER_SECRET: MASTER_SECRET,
  ADMIN_TOKENS: ADMIN_TOKEN,
  HV_APP_ID: APP_ID,
  HV_APP_CERT: APP_CERT_PEM,
  HV_APP_PRIVATE_KEY: APP_KEY_PEM,
  HV_DISCOVERY_URL: 'https://platform.invalid/platform/wildcat.ashx',
  // a separate admin listener on a free port: tests run in parallel, 9090 would collide
  ADMIN_PORT: '0',
  // scripts/test.sh's extra pass runs the Kafka-touching tests with the non-default client
  ...(process.env.KAFKA_CLIENT ? { KAFKA_CLIENT: process.env.KAFKA_CLIENT } : {}),
  ...over,
});
