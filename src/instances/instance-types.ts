// The shapes around an instance — options, credentials, status — and the registry's view of
// them, apart from the classes that implement them (instance.ts, registry.ts).
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServiceInstance } from '../healthvault/index.ts';
import type { SessionStatus } from './app-session.ts';
import type { ErrorSummary } from './instance-errors.ts';
import type { PlatformClient } from './platform-client.ts';
import type { ThingsReadOptions } from './things.ts';

export interface InstanceCredentials {
  readonly appId: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
}

export interface HvInstanceOptions {
  readonly info: ServiceInstance;
  readonly client: PlatformClient;
  /** false when the client is shared (the discovery endpoint) and closed by its owner */
  readonly ownsClient: boolean;
  readonly credentials: InstanceCredentials;
  readonly clientVersion: string;
  readonly msgTtlSeconds: number;
  readonly sessionTtlMs: number;
  readonly sessionRenewBeforeMs: number;
  readonly refusalHoldMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** GetThings batching and per-instance concurrency (default DEFAULT_THINGS_READ) */
  readonly things?: ThingsReadOptions;
}

export const IDENTITY_STATES = ['unverified', 'verified', 'mismatch'] as const;
export type IdentityState = (typeof IDENTITY_STATES)[number];

export interface HvInstanceStatus {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly platformUrl: string;
  readonly shellUrl: string;
  /** null until the first exchange */
  readonly reachable: boolean | null;
  readonly identity: IdentityState;
  readonly lastError: ErrorSummary | null;
  readonly lastSuccessAt: string | null;
  readonly session: SessionStatus;
}

// ---- the registry's view (registry.ts) ----

export const TOPOLOGY_MODES = ['explicit', 'discovery'] as const;

export interface TopologyStatus {
  readonly mode: (typeof TOPOLOGY_MODES)[number];
  readonly discoveryUrl: string | null;
  readonly defaultInstanceId: string | null;
  readonly updatedDate: string | null;
  readonly refreshIntervalMs: number;
  readonly lastRefreshAt: string | null;
  readonly lastRefreshOkAt: string | null;
  /** set while the latest discovery failed; the view shown is then the last good one */
  readonly lastRefreshError: ErrorSummary | null;
}

export interface RegisteredInstanceStatus extends HvInstanceStatus {
  /** false for the default instance when the filter excludes it (kept only for SelectInstance) */
  readonly supported: boolean;
  readonly isDefault: boolean;
}

export interface ReadinessProblem {
  readonly instanceId: string | null;
  readonly code: string;
  readonly message: string;
}
