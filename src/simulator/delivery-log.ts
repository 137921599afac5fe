// The delivery log entry of one POST body (a batch) and its JSON view for the control API.
import type { RecordChangeNotification } from '../healthvault/index.ts';

/** setTimeout's ceiling (2^31-1 ms, ~24.8 days); a longer wait (only with timeScale < 1) retries early. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export type BatchState = 'pending' | 'delivered' | 'failed';

export interface AttemptRecord {
  readonly at: number;
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly durationMs: number;
  /** Key version the attempt was signed with (changes after a rotation, §2.5). */
  readonly keyVersionId: string;
}

export interface Batch {
  readonly id: string;
  readonly instanceId: string;
  /** The first one named the header and keyed the HMAC (§2.6). */
  readonly subscriptionIds: readonly string[];
  /** The subscription URL as registered (https). */
  readonly url: string;
  readonly notifications: readonly RecordChangeNotification[];
  readonly body: string;
  state: BatchState;
  inFlight: boolean;
  attempts: number;
  readonly history: AttemptRecord[];
  readonly createdAt: number;
  /** The retry horizon counts from here (§2.7: "10 days after the event first occurred"). */
  readonly firstEventAt: number;
  lastAttemptAt: number | undefined;
  lastStatus: number | undefined;
  lastError: string | undefined;
  nextAttemptAt: number | undefined;
  deliveredAt: number | undefined;
  /** Where the last attempt really went, after deliveryRewrites. */
  deliveredTo: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface BatchView {
  readonly id: string;
  readonly instanceId: string;
  readonly subscriptionIds: readonly string[];
  readonly url: string;
  readonly target: string | undefined;
  readonly notificationCount: number;
  readonly notifications: readonly RecordChangeNotification[];
  readonly bodyBytes: number;
  readonly state: BatchState;
  readonly inFlight: boolean;
  readonly attempts: number;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  readonly createdAt: string;
  readonly lastAttemptAt: string | undefined;
  readonly nextAttemptAt: string | undefined;
  readonly deliveredAt: string | undefined;
  readonly history: readonly { at: string; status: number | undefined; error: string | undefined; durationMs: number; keyVersionId: string }[];
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function batchView(b: Batch): BatchView {
  return {
    id: b.id, instanceId: b.instanceId, subscriptionIds: [...b.subscriptionIds], url: b.url, target: b.deliveredTo,
    notificationCount: b.notifications.length, notifications: b.notifications, bodyBytes: Buffer.byteLength(b.body),
    state: b.state, inFlight: b.inFlight, attempts: b.attempts, lastStatus: b.lastStatus, lastError: b.lastError,
    createdAt: new Date(b.createdAt).toISOString(), lastAttemptAt: iso(b.lastAttemptAt),
    nextAttemptAt: b.state === 'pending' ? iso(b.nextAttemptAt) : undefined, deliveredAt: iso(b.deliveredAt),
    history: b.history.map((h) => ({ at: new Date(h.at).toISOString(), status: h.status, error: h.error, durationMs: h.durationMs, keyVersionId: h.keyVersionId })),
  };
}
