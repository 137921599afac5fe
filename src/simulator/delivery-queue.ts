// One instance's notification pipeline (healthvault-protocol.md §2): thing changes → one
// notification per (subscription, record) → batches per destination URL within a short window →
// body built by the codec, signed with the first subscription's *current* key (or, with the quirk
// signWithQueuedKey, the key current when the batch was queued) → POST → retried on anything but
// 200 with a doubling interval until a horizon after the first event (§2.7).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffDelay } from '../retry.ts';
import { buildNotificationBody, notificationAuthorizationFor } from '../healthvault/index.ts';
import type { RecordChangeNotification } from '../healthvault/index.ts';
import type { ResolvedConfig } from './sim-config.ts';
import type { DeliveryClient } from './delivery-client.ts';
import type { ThingChange } from './record-store.ts';
import type { SimSubscriptionStore } from './subscription-store.ts';
import { DEFAULT_QUIRKS, type SimQuirks } from './quirks.ts';
import { batchView, MAX_TIMER_MS } from './delivery-log.ts';
import type { Batch, BatchView } from './delivery-log.ts';

interface OpenBatch {
  readonly url: string;
  readonly subscriptionIds: string[];
  /** `${subscriptionId}|${recordId}` → notification being filled. */
  readonly notifications: Map<string, { subscriptionId: string; personId: string; recordId: string; thingIds: string[] }>;
  readonly firstEventAt: number;
  timer: NodeJS.Timeout | undefined;
}

export interface DeliveryStats {
  changes: number;
  dropped: number;
  notifications: number;
  batches: number;
  attempts: number;
  delivered: number;
  failed: number;
}

export interface DeliveryFilter {
  readonly state?: string;
  readonly subscriptionId?: string;
  readonly limit?: number;
}

export type DeliveryConfig = Pick<ResolvedConfig,
  'batchWindowMs' | 'maxNotificationsPerBatch' | 'batchAcrossSubscriptions' | 'deliveryConcurrency' | 'deliveryLogLimit' |
  'retryFirstMs' | 'retryMaxIntervalMs' | 'retryHorizonMs'>;

export class DeliveryQueue {
  readonly #instanceId: string;
  readonly #config: DeliveryConfig;
  readonly #subscriptions: SimSubscriptionStore;
  readonly #client: DeliveryClient;
  readonly #log: Logger;
  readonly #quirks: Readonly<SimQuirks>;
  /** batch id → the signer's key when the batch was queued (quirk signWithQueuedKey) */
  readonly #queuedKeys = new Map<string, { readonly key: Buffer; readonly keyVersionId: string }>();
  readonly #open = new Map<string, OpenBatch>();
  readonly #batches = new Map<string, Batch>();
  readonly #ready: Batch[] = [];
  #inFlight = 0;
  #paused = false;
  #closed = false;
  readonly stats: DeliveryStats = { changes: 0, dropped: 0, notifications: 0, batches: 0, attempts: 0, delivered: 0, failed: 0 };
  /** Set by the instance: the dropNotifications fault. */
  dropNotifications = false;

  constructor(options: { instanceId: string; config: DeliveryConfig; subscriptions: SimSubscriptionStore; client: DeliveryClient; logger: Logger; quirks?: Readonly<SimQuirks> }) {
    this.#quirks = options.quirks ?? DEFAULT_QUIRKS;
    this.#instanceId = options.instanceId;
    this.#config = options.config;
    this.#subscriptions = options.subscriptions;
    this.#client = options.client;
    this.#log = options.logger;
  }

  /** A thing changed in this instance: notify every subscription of this instance that matches. */
  onChange(change: ThingChange): void {
    if (this.#closed) return;
    this.stats.changes += 1;
    if (this.dropNotifications) {
      this.stats.dropped += 1;
      return;
    }
    for (const sub of this.#subscriptions.matching(change.typeId)) this.#add(sub.id, sub.url, change);
  }

  #add(subscriptionId: string, url: string, change: ThingChange): void {
    // By default one subscription per batch; the switch lets subscriptions sharing a URL share a
    // POST, signed with the first one's key (§2.6 [I]).
    const key = this.#config.batchAcrossSubscriptions ? url : `${url}|${subscriptionId}`;
    let open = this.#open.get(key);
    if (open === undefined) {
      open = { url, subscriptionIds: [], notifications: new Map(), firstEventAt: change.at, timer: undefined };
      const batch = open;
      open.timer = setTimeout(() => this.#flush(key, batch), this.#config.batchWindowMs);
      open.timer.unref();
      this.#open.set(key, open);
    }
    if (!open.subscriptionIds.includes(subscriptionId)) open.subscriptionIds.push(subscriptionId);
    // Changes of one record for one subscription inside the window share a notification
    // (things 1..n, §2.2) [I].
    const nKey = `${subscriptionId}|${change.recordId}`;
    const n = open.notifications.get(nKey);
    if (n === undefined) {
      open.notifications.set(nKey, { subscriptionId, personId: change.personId, recordId: change.recordId, thingIds: [change.thingId] });
      this.stats.notifications += 1;
    } else if (!n.thingIds.includes(change.thingId)) {
      n.thingIds.push(change.thingId);
    }
    if (open.notifications.size >= this.#config.maxNotificationsPerBatch) this.#flush(key, open);
  }

  #flush(key: string, open: OpenBatch): void {
    if (this.#open.get(key) !== open) return;
    this.#open.delete(key);
    clearTimeout(open.timer);
    const notifications: RecordChangeNotification[] = [...open.notifications.values()];
    const declaration = this.#quirks.notificationEncodingDeclaration;
    const batch: Batch = {
      id: randomUUID(), instanceId: this.#instanceId, subscriptionIds: open.subscriptionIds, url: open.url, notifications,
      // the declaration names an encoding; the bytes stay UTF-8 whatever it says (quirk notificationEncodingDeclaration)
      body: `${declaration === null ? '' : `<?xml version="1.0" encoding="${declaration}"?>`}${buildNotificationBody(notifications)}`, state: 'pending', inFlight: false, attempts: 0, history: [],
      createdAt: Date.now(), firstEventAt: open.firstEventAt,
      lastAttemptAt: undefined, lastStatus: undefined, lastError: undefined, nextAttemptAt: Date.now(), deliveredAt: undefined,
      deliveredTo: undefined, timer: undefined,
    };
    this.stats.batches += 1;
    const signer = this.#subscriptions.get(open.subscriptionIds[0] ?? '');
    if (this.#quirks.signWithQueuedKey && signer !== undefined) this.#queuedKeys.set(batch.id, { key: signer.key, keyVersionId: signer.keyVersionId });
    this.#batches.set(batch.id, batch);
    this.#ready.push(batch);
    this.#pump();
  }

  /** The instance is down: keep everything queued, send nothing (timers still count down). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  #pump(): void {
    while (!this.#paused && !this.#closed && this.#inFlight < this.#config.deliveryConcurrency && this.#ready.length > 0) {
      const batch = this.#ready.shift();
      if (batch !== undefined) void this.#attempt(batch);
    }
  }

  async #attempt(batch: Batch): Promise<void> {
    const signer = this.#subscriptions.get(batch.subscriptionIds[0] ?? '');
    if (signer === undefined) {
      // [I] nothing says what happens to queued notifications of a deleted subscription; without
      // it there is no key to sign with, so the batch is given up.
      this.#finish(batch, 'failed', 'subscription deleted before delivery');
      return;
    }
    this.#inFlight += 1;
    batch.inFlight = true;
    batch.nextAttemptAt = undefined;
    // Signed at every attempt with the current key: after a rotation retries carry the new key
    // version, which §1.2 allows ("either the old or the new key"). A platform may instead keep
    // the key of when the notification was queued (quirk signWithQueuedKey).
    const queued = this.#queuedKeys.get(batch.id);
    const key = queued ?? signer;
    const authorization = notificationAuthorizationFor(signer.id, key.keyVersionId, key.key, batch.body);
    const at = Date.now();
    const outcome = await this.#client.post(batch.url, authorization, batch.body);
    this.#inFlight -= 1;
    batch.inFlight = false;
    if (this.#closed) return;
    this.stats.attempts += 1;
    batch.attempts += 1;
    batch.lastAttemptAt = at;
    batch.lastStatus = outcome.status;
    batch.lastError = outcome.error ?? (outcome.status === 200 ? undefined : `HTTP ${outcome.status}`);
    batch.deliveredTo = outcome.target;
    batch.history.push({ at, status: outcome.status, error: outcome.error, durationMs: Math.round(outcome.durationMs), keyVersionId: key.keyVersionId });
    if (batch.history.length > 50) batch.history.shift();
    if (outcome.status === 200) this.#finish(batch, 'delivered', undefined);
    else this.#scheduleRetry(batch);
    this.#pump();
  }

  #scheduleRetry(batch: Batch): void {
    const now = Date.now();
    const horizonAt = batch.firstEventAt + this.#config.retryHorizonMs;
    const delay = backoffDelay(batch.attempts, { baseMs: this.#config.retryFirstMs, maxMs: this.#config.retryMaxIntervalMs, jitter: 'none' });
    let next = now + delay;
    if (next > horizonAt) {
      if (now >= horizonAt) {
        this.#finish(batch, 'failed', `gave up at the retry horizon: ${batch.lastError ?? 'not delivered'}`);
        return;
      }
      next = horizonAt; // one last try at the horizon
    }
    batch.nextAttemptAt = next;
    batch.timer = setTimeout(() => {
      batch.timer = undefined;
      this.#ready.push(batch);
      this.#pump();
    }, Math.min(Math.max(0, next - now), MAX_TIMER_MS));
    batch.timer.unref();
    this.#log.debug({ batchId: batch.id, attempts: batch.attempts, retryInMs: next - now, lastError: batch.lastError }, 'notification delivery failed, will retry');
  }

  #finish(batch: Batch, state: 'delivered' | 'failed', error: string | undefined): void {
    batch.state = state;
    this.#queuedKeys.delete(batch.id);
    batch.nextAttemptAt = undefined;
    if (state === 'delivered') {
      batch.deliveredAt = Date.now();
      this.stats.delivered += 1;
    } else {
      batch.lastError = error;
      this.stats.failed += 1;
      this.#log.warn({ batchId: batch.id, url: batch.url, attempts: batch.attempts, error }, 'notification batch failed');
    }
    this.#evict();
  }

  /** Keeps the log bounded: the oldest finished batches go first; pending ones always stay. */
  #evict(): void {
    if (this.#batches.size <= this.#config.deliveryLogLimit) return;
    for (const [id, b] of this.#batches) {
      if (this.#batches.size <= this.#config.deliveryLogLimit) break;
      if (b.state !== 'pending') this.#batches.delete(id);
    }
  }

  /** Oldest first; `limit` keeps the most recent N of those that match. */
  list(filter: DeliveryFilter = {}): BatchView[] {
    const matching: Batch[] = [];
    for (const b of this.#batches.values()) {
      if (filter.state !== undefined && b.state !== filter.state) continue;
      if (filter.subscriptionId !== undefined && !b.subscriptionIds.includes(filter.subscriptionId.toLowerCase())) continue;
      matching.push(b);
    }
    return (filter.limit === undefined ? matching : matching.slice(-filter.limit)).map(batchView);
  }

  /** Counts by state, without building views. */
  counts(): { pending: number; delivered: number; failed: number; open: number } {
    const c = { pending: 0, delivered: 0, failed: 0, open: this.#open.size };
    for (const b of this.#batches.values()) c[b.state] += 1;
    return c;
  }

  get(id: string): BatchView | undefined {
    const b = this.#batches.get(id);
    return b === undefined ? undefined : batchView(b);
  }

  /** Send every waiting batch now (skips the remaining backoff); handy in drills. */
  retryNow(): number {
    let n = 0;
    for (const b of this.#batches.values()) {
      if (b.state !== 'pending' || b.timer === undefined) continue;
      clearTimeout(b.timer);
      b.timer = undefined;
      this.#ready.push(b);
      n += 1;
    }
    this.#pump();
    return n;
  }

  close(): void {
    this.#closed = true;
    for (const open of this.#open.values()) clearTimeout(open.timer);
    this.#open.clear();
    for (const b of this.#batches.values()) if (b.timer !== undefined) clearTimeout(b.timer);
    this.#ready.length = 0;
  }
}
