// The data path, Fastify-free: raw bytes in, verified and tagged Kafka records out.
//   path (instance, name) → served instance? (registry) → which subscription, which key versions → strict Authorization parse →
//   derive the key → constant-time HMAC check over the raw bytes → only then parse the XML →
//   the header's subscription id must be this URL's (else 403: an authentication matter) →
//   one event record per notification of ours → what cannot become an event (unreadable body,
//   unknown kind, an entry for a subscription id that is none of ours in this instance) goes,
//   raw, to the dead-letter topic in the same publish → resolve only after Kafka acknowledged
//   all of them. Once the HMAC verified, the content never earns a 4xx: the platform would retry
//   it for 10 days and then drop it.
// The instance tag comes from the path and is proven by the key (a body signed with another
// instance's key fails the HMAC); nothing in the body can change it.
import type { KeyObject } from 'node:crypto';
import { HvgError } from '../errors.ts';
import { notificationKeyObject, parseNotificationAuthorization, parseNotificationBody, verifyNotification, type NotificationAuthorization } from '../healthvault/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Sink } from '../sink/sink.ts';
import { toDeadLetterRecord, type DeadLetterReason } from '../sink/dead-letter.ts';
import { toRecord, type SinkRecord } from '../sink/record.ts';
import { parseKeyVersionId, type KeyDeriver } from '../subscriptions/keys.ts';
import type { NotificationRoute, StateView } from '../subscriptions/view.ts';
import { WindowBudget } from './budget.ts';

/**
 * Which instance ids have a notification route at all: the instance registry (InstanceRegistry
 * satisfies it). Asked before anything is keyed by the id from the URL.
 */
export interface SupportedInstances {
  /** false until the registry has had its first view of the instances (discovery pending) */
  hasView(): boolean;
  /** defined only for an instance the gateway serves */
  platform(instanceId: string): object | undefined;
}

export interface ReceiverOptions {
  view: StateView;
  instances: SupportedInstances;
  keys: KeyDeriver;
  sink: Sink;
  metrics: Metrics;
  /** also accept a hex MAC (the encoding is inferred; healthvault-protocol.md §7.1) */
  acceptHexMac: boolean;
  /** verified notification requests per instance per window (429 above it) */
  rateLimit: number;
  /** failed authentications per instance per window; above it failures answer 429 instead of 401 */
  authFailureLimit: number;
  rateWindowMs: number;
  /** KAFKA_DEAD_LETTER_TOPIC: the sink must have been started with it (extraTopics) */
  deadLetterTopic: string;
  /** KAFKA_TOPIC_ROUTES / KAFKA_DEAD_LETTER_TOPIC_ROUTES: an instance's own topics (residency); the sink must have ensured them */
  topicRoutes?: ReadonlyMap<string, string>;
  deadLetterTopicRoutes?: ReadonlyMap<string, string>;
  now?: () => Date;
}

export interface Received {
  /** event records acknowledged by Kafka (KAFKA_TOPIC) */
  produced: number;
  /** dead-letter records acknowledged by Kafka (KAFKA_DEAD_LETTER_TOPIC): 0 or 1 per request */
  deadLettered: number;
  /** why, when deadLettered is 1 (for the log; not part of the answer) */
  reasons?: readonly DeadLetterReason[];
}

/** What could not become events: the reasons met and which entries (1-based). */
interface Undeliverable {
  reasons: DeadLetterReason[];
  entries: number[];
  detail: string;
}

const note = (u: Undeliverable | undefined, reason: DeadLetterReason, entry: number): Undeliverable => {
  const out = u ?? { reasons: [], entries: [], detail: '' };
  if (!out.reasons.includes(reason)) out.reasons.push(reason);
  out.entries.push(entry);
  return out;
};

/** Per-instance metric children, bound once: label hashing on every request adds up. */
function instanceMetrics(m: Metrics, instance: string) {
  const l = { instance };
  return {
    received: m.notificationsReceived.labels(l),
    verified: m.notificationsVerified.labels(l),
    produced: m.notificationsProduced.labels(l),
    deadLettered: m.notificationsDeadLettered,
    latency: m.produceLatency.labels(l),
    inFlight: m.notificationsInFlight.labels(l),
  };
}

const AUTH_CODES: ReadonlySet<string> = new Set(['HVG_ERR_AUTH_MISSING', 'HVG_ERR_AUTH_MALFORMED', 'HVG_ERR_AUTH_UNKNOWN_KEY_VERSION', 'HVG_ERR_AUTH_BAD_SIGNATURE']);

export class NotificationReceiver {
  readonly #o: ReceiverOptions;
  readonly #metrics = new Map<string, ReturnType<typeof instanceMetrics>>();
  readonly #keyObjects = new Map<string, KeyObject>();
  readonly #now: () => Date;
  // Two budgets per instance, so junk can never spend what genuine deliveries need: verified
  // requests count against one, failed authentications against the other (by outcome, not by
  // client address: behind the TLS proxy every client has the proxy's address, and a forwarded-for
  // header is whatever the caller writes).
  readonly #verified: WindowBudget;
  readonly #failures: WindowBudget;

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#verified = new WindowBudget(options.rateLimit, options.rateWindowMs);
    this.#failures = new WindowBudget(options.authFailureLimit, options.rateWindowMs);
  }

  /** Metric label for an instance id from a URL: only ids the registry serves, so a scan cannot grow the label set. */
  instanceLabel(instanceId: string): string {
    return this.#o.instances.platform(instanceId) === undefined ? 'unknown' : instanceId;
  }

  /** Sizes of every map keyed (after the route check) by request data: tests prove they stay bounded. */
  stateSizes(): { metricChildren: number; keyObjects: number; verifiedBudgets: number; failureBudgets: number } {
    return { metricChildren: this.#metrics.size, keyObjects: this.#keyObjects.size, verifiedBudgets: this.#verified.size, failureBudgets: this.#failures.size };
  }

  #m(instance: string): ReturnType<typeof instanceMetrics> {
    let m = this.#metrics.get(instance);
    if (m === undefined) {
      m = instanceMetrics(this.#o.metrics, instance);
      this.#metrics.set(instance, m);
    }
    return m;
  }

  #key(instanceId: string, name: string, version: number): KeyObject {
    const id = `${instanceId}\u0000${name}\u0000${version}`;
    let k = this.#keyObjects.get(id);
    if (k === undefined) {
      // a KeyObject skips the per-call key import inside HMAC (about 2.5× faster on 1–2 KB bodies)
      k = notificationKeyObject(this.#o.keys.key(instanceId, name, version));
      if (this.#keyObjects.size > 10_000) this.#keyObjects.clear();
      this.#keyObjects.set(id, k);
    }
    return k;
  }

  /**
   * The route for (instance, name), or a refusal before anything is keyed by those strings: an
   * instance the registry does not serve (or an empty/odd id) is a 404 like an unknown name; until
   * the registry has its first view, 503 so the platform retries.
   */
  #route(instanceId: string, name: string): NotificationRoute {
    const route = this.#o.instances.platform(instanceId) === undefined ? undefined : this.#o.view.route(instanceId, name);
    if (route !== undefined) return route;
    this.#o.metrics.notificationsReceived.inc({ instance: 'unknown' });
    if (!this.#o.instances.hasView()) throw new HvgError('HVG_ERR_TOPOLOGY_UNAVAILABLE', 'the gateway has not discovered its instances yet; retry later');
    // one message for "no such instance" and "no such subscription": a scan learns nothing more
    throw new HvgError('HVG_ERR_UNKNOWN_SUBSCRIPTION', 'no notification route for this instance and subscription name');
  }

  /** Header parse, key version and HMAC; a failure counts against the failure budget only. */
  #authenticate(instanceId: string, name: string, route: NotificationRoute, authorization: string | undefined, body: Buffer): NotificationAuthorization {
    try {
      if (authorization === undefined || authorization === '') throw new HvgError('HVG_ERR_AUTH_MISSING', 'missing Authorization: HVEventingSharedKey <subscription-id>:<key-version-id>:<hmac>');
      let auth;
      try {
        auth = parseNotificationAuthorization(authorization, { acceptHex: this.#o.acceptHexMac });
      } catch (err) {
        throw new HvgError('HVG_ERR_AUTH_MALFORMED', (err as Error).message, { cause: err });
      }
      const version = parseKeyVersionId(auth.keyVersionId);
      // the accepted versions are not named: that is the inside (they are in the admin API)
      if (version === undefined || !route.keyVersions.includes(version)) throw new HvgError('HVG_ERR_AUTH_UNKNOWN_KEY_VERSION', `key version "${auth.keyVersionId}" is not accepted for this subscription now`);
      if (!verifyNotification(auth, this.#key(instanceId, name, version), body)) throw new HvgError('HVG_ERR_AUTH_BAD_SIGNATURE', 'the HMAC does not match the body for this instance, subscription and key version');
      return auth;
    } catch (err) {
      if (err instanceof HvgError && AUTH_CODES.has(err.code) && !this.#failures.take(instanceId)) {
        throw new HvgError('HVG_ERR_RATE_LIMITED', `more than ${this.#failures.limit} failed authentications in this window for this instance; retry later`, { cause: err, details: { retryAfterSeconds: this.#failures.retryAfterSeconds } });
      }
      throw err;
    }
  }

  /** Throws HvgError with a stable code for every refusal; resolves once Kafka holds every record. */
  async receive(instanceId: string, name: string, authorization: string | undefined, body: Buffer): Promise<Received> {
    const route = this.#route(instanceId, name);
    const m = this.#m(instanceId);
    m.received.inc();
    const auth = this.#authenticate(instanceId, name, route, authorization, body);
    m.verified.inc();
    // one clock read for both the budget and ce_time (a clock read costs ~0.2 µs here)
    const receivedAt = this.#now();
    // counted only once verified: junk (404s, bad signatures) cannot spend the instance's budget
    if (!this.#verified.take(instanceId, receivedAt.getTime())) {
      throw new HvgError('HVG_ERR_RATE_LIMITED', `more than ${this.#verified.limit} notification requests in this window for this instance; retry later`, { details: { retryAfterSeconds: this.#verified.retryAfterSeconds } });
    }

    const headerId = auth.subscriptionId.toLowerCase();
    if (!route.subscriptionIds.has(headerId)) {
      throw new HvgError('HVG_ERR_SUBSCRIPTION_MISMATCH', `subscription id ${headerId} is not this URL's subscription in instance ${instanceId}`);
    }
    // The body is authenticated (only the instance holds this key), so the strict reader alone
    // decides; fast-xml-parser's second well-formedness opinion would double the parse cost on
    // the hot path (≈22 → 9 µs for 1.6 KB) for input that cannot come from an attacker.
    let parsed: ReturnType<typeof parseNotificationBody>;
    try {
      parsed = parseNotificationBody(body, { crossCheck: false });
    } catch (err) {
      // anything the reader refuses (or trips over) is authentic content we cannot read: dead-letter it whole
      return this.#publish(instanceId, name, headerId, auth.keyVersionId, body, receivedAt, [], { reasons: ['unreadable'], entries: [], detail: err instanceof Error ? err.message : String(err) });
    }

    const records: SinkRecord[] = [];
    let undeliverable: Undeliverable | undefined;
    // residency: a routed instance's events go to its own topic (unrouted: the sink's events topic)
    const routed = this.#o.topicRoutes?.get(instanceId);
    const tag = (n: (typeof parsed.notifications)[number], subscriptionName: string, subscriptionId: string) => {
      const r = toRecord({ instanceId, subscriptionName, subscriptionId, keyVersion: auth.keyVersionId, personId: n.personId, recordId: n.recordId, thingIds: n.thingIds, receivedAt });
      return routed === undefined ? r : { ...r, topic: routed };
    };
    if (parsed.skipped.length === 0) {
      // the hot path: one kind, usually all this URL's subscription
      for (let i = 0; i < parsed.notifications.length; i++) {
        const n = parsed.notifications[i]!;
        const id = n.subscriptionId.toLowerCase();
        if (route.subscriptionIds.has(id)) records.push(tag(n, name, id));
        else {
          const other = this.#ourSubscription(instanceId, name, id);
          if (other !== undefined) records.push(tag(n, other, id));
          else undeliverable = note(undeliverable, 'foreign-subscription', i + 1);
        }
      }
    } else {
      // entries are known (notifications) or skipped, in body order; skipped ones carry their position
      const skippedAt = new Set(parsed.skipped.map((k) => k.position));
      let next = 0;
      const total = parsed.notifications.length + parsed.skipped.length;
      for (let pos = 1; pos <= total; pos++) {
        if (skippedAt.has(pos)) {
          undeliverable = note(undeliverable, 'unknown-kind', pos);
          continue;
        }
        const n = parsed.notifications[next++]!;
        const id = n.subscriptionId.toLowerCase();
        const owner = route.subscriptionIds.has(id) ? name : this.#ourSubscription(instanceId, name, id);
        if (owner !== undefined) records.push(tag(n, owner, id));
        else undeliverable = note(undeliverable, 'foreign-subscription', pos);
      }
    }
    return this.#publish(instanceId, name, headerId, auth.keyVersionId, body, receivedAt, records, undeliverable);
  }

  /**
   * The name of another of our subscriptions in this instance whose HealthVault id is `id`, or
   * undefined. Off the hot path (an entry for this URL's subscription never gets here); at most
   * one lookup per spec (25 per instance at most, healthvault-protocol.md) per entry.
   */
  #ourSubscription(instanceId: string, name: string, id: string): string | undefined {
    for (const spec of this.#o.view.specs()) {
      if (spec.name === name) continue;
      if (this.#o.view.route(instanceId, spec.name)?.subscriptionIds.has(id)) return spec.name;
    }
    return undefined;
  }

  /** One publish for the event records and, if any, the dead-letter record: 200 only once Kafka acknowledged all. */
  async #publish(instanceId: string, name: string, subscriptionId: string, keyVersion: string, body: Buffer, receivedAt: Date, records: SinkRecord[], u: Undeliverable | undefined): Promise<Received> {
    const m = this.#m(instanceId);
    const produced = records.length;
    if (u !== undefined) {
      records.push(toDeadLetterRecord({ topic: this.#o.deadLetterTopicRoutes?.get(instanceId) ?? this.#o.deadLetterTopic, instanceId, subscriptionName: name, subscriptionId, keyVersion, reasons: u.reasons, entries: u.entries, detail: u.detail, body, receivedAt }));
    }
    const end = m.latency.startTimer();
    m.inFlight.inc();
    try {
      await this.#o.sink.publish(records);
    } finally {
      m.inFlight.dec();
    }
    end();
    if (produced > 0) m.produced.inc(produced);
    if (u === undefined) return { produced, deadLettered: 0 };
    for (const reason of u.reasons) m.deadLettered.inc({ instance: instanceId, reason });
    return { produced, deadLettered: 1, reasons: u.reasons };
  }
}
