// The settings every gateway needs, for tests: the throwaway fixture app identity, a master
// secret and an admin token. HV_DISCOVERY_URL / HV_INSTANCES come from the test (a simulator).
import { readFileSync } from 'node:fs';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');

export const APP_ID = '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13';
export const APP_CERT_PEM = fixture('test-app-cert.TEST-ONLY.pem');
export const APP_KEY_PEM = fixture('test-app-key.TEST-ONLY.pem');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const MASTER_SECRET = 'test-master-secret-for-the-gateway-0123456789';

export const requiredEnv = (over: Record<string, string> = {}): Record<string, string> => ({
  PUBLIC_BASE_URL: 'https://gw.test/hv',
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
