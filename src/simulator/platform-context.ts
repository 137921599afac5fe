// What the platform method handlers of one instance see, and how they fail: a HealthVault status
// code in an HTTP 200 answer (healthvault-protocol.md §4.1, §4.5).
import type { ParsedRequest } from '../healthvault/index.ts';
import type { RegisteredApp, ResolvedConfig } from './sim-config.ts';
import type { SimQuirks } from './quirks.ts';
import type { RecordStore } from './record-store.ts';
import type { SimSession, SessionStore } from './sessions.ts';
import type { SimSubscriptionStore } from './subscription-store.ts';
import type { Topology } from './topology.ts';

export interface PlatformContext {
  readonly instanceId: string;
  readonly config: ResolvedConfig;
  readonly topology: Topology;
  readonly sessions: SessionStore;
  readonly subscriptions: SimSubscriptionStore;
  /** People, records, things and offline access (GetThings, §4.6). */
  readonly records: RecordStore;
  /** This instance's switches (quirks.ts); read at every request. */
  readonly quirks: Readonly<SimQuirks>;
  /** Raw `<subscription>` elements of odd foreign subscriptions listed for every app (quirks.ts). */
  oddSubscriptions(): readonly string[];
  /** The app if it is configured in this instance (ACC is per instance, §1.1). */
  appFor(appId: string | undefined): RegisteredApp | undefined;
}

/** Who is calling: the app, and its session for authenticated methods. */
export interface Caller {
  readonly app: RegisteredApp;
  readonly session: SimSession | undefined;
}

export type MethodHandler = (ctx: PlatformContext, request: ParsedRequest, caller: Caller) => string;

/** A request the platform refuses with a status code (never an HTTP error). */
export class PlatformFailure extends Error {
  readonly hvStatus: number;

  constructor(hvStatus: number, message: string) {
    super(message);
    this.name = 'PlatformFailure';
    this.hvStatus = hvStatus;
  }
}

export function fail(hvStatus: number, message: string): never {
  throw new PlatformFailure(hvStatus, message);
}

/** Runs a codec parser; any parse error becomes `status` with the codec's message. */
export function parseOr<T>(status: number, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    return fail(status, err instanceof Error ? err.message : String(err));
  }
}

// Status codes the simulator answers (§4.5 table).
export const S = {
  OK: 0,
  FAILED: 1,
  INVALID_XML: 3,
  BAD_SIG: 4,
  BAD_METHOD: 5,
  INVALID_APP: 6,
  INVALID_TOKEN: 8,
  INVALID_PERSON: 9,
  INVALID_RECORD: 10,
  ACCESS_DENIED: 11,
  INVALID_FILTER: 15,
  INVALID_FORMAT: 16,
  REQUEST_TOO_LONG: 39,
  REQUEST_TIMED_OUT: 49,
  TOO_MANY_GROUPS: 53,
  SESSION_EXPIRED: 65,
  INVALID_SIGNATURE_ALGORITHM: 105,
  TOO_MANY_THINGS_SPECIFIED: 124,
  SUBSCRIPTION_NOT_FOUND: 132,
  SUBSCRIPTION_LIMIT_EXCEEDED: 133,
  SUBSCRIPTION_INVALID: 134,
} as const;
