// One HealthVault instance as the gateway uses it: its platform client, its app session, the
// check that the platform really is that instance, and the eventing methods mapped onto the
// reconciler's InstancePlatform (healthvault-protocol.md §1.3–1.6, §3.2, §3.3, §4).
import { HvgError, isHvgError } from '../errors.ts';
import {
  buildGetEventSubscriptionsInfo, buildSubscribeToEventInfo, buildUnsubscribeToEventInfo,
  buildUpdateEventSubscriptionInfo, parseGetEventSubscriptionsListing, parseSubscribeToEventResponse,
  parseUnsubscribeToEventResponse, parseUpdateEventSubscriptionResponse, HV_METHODS, type MethodSpec,
  buildAnonymousRequest, buildAuthenticatedRequest, type ParsedResponse, buildSelectInstanceInfo,
  parseSelectInstanceResponse, type PreferredLocation, buildGetServiceDefinitionInfo,
  parseGetServiceDefinitionResponse, type ServiceInstance, statusError, statusInfo,
  HV_STATUS_SUBSCRIPTION_NOT_FOUND, buildGetThingsInfo, GETTHINGS_UNREADABLE_STATUSES, parseGetThingsResponse,
} from '../healthvault/index.ts';
import type { ActualSubscription, InstancePlatform, SubscriptionWrite } from '../subscriptions/platform.ts';
import { AppSession, type Session } from './app-session.ts';
import { abortable, configurationRefusal, forInstance, instanceLabel, summarize } from './instance-errors.ts';
import type { HvInstanceOptions, HvInstanceStatus, IdentityState } from './instance-types.ts';
import type { PlatformClient } from './platform-client.ts';
import { DEFAULT_THINGS_READ, Limiter, readThings, type OfflineTarget, type ThingsAnswer, type ThingsQuery, type ThingsSource } from './things.ts';

export class HvInstance implements InstancePlatform, ThingsSource {
  readonly instanceId: string;
  readonly info: ServiceInstance;
  readonly label: string;
  readonly client: PlatformClient;
  readonly session: AppSession;
  private readonly o: HvInstanceOptions;
  private readonly now: () => number;
  private identity: { state: IdentityState; error?: HvgError } = { state: 'unverified' };
  private identityInflight: Promise<void> | undefined;
  private reachable: boolean | null = null;
  private lastError: { error: unknown; at: number } | undefined;
  private lastSuccessAt: number | undefined;
  /** the latest probe's failure, cleared by a good probe */
  private probeError: unknown;
  private readonly thingsLimiter: Limiter;

  constructor(options: HvInstanceOptions) {
    this.o = options;
    this.info = options.info;
    this.instanceId = options.info.id;
    this.label = instanceLabel(options.info.id, options.info.name);
    this.client = options.client;
    this.now = options.now ?? Date.now;
    this.thingsLimiter = new Limiter((options.things ?? DEFAULT_THINGS_READ).concurrency);
    this.session = new AppSession({
      label: this.label, instanceId: this.instanceId, ...options.credentials, client: options.client,
      clientVersion: options.clientVersion, msgTtlSeconds: options.msgTtlSeconds, ttlMs: options.sessionTtlMs,
      renewBeforeMs: options.sessionRenewBeforeMs, refusalHoldMs: options.refusalHoldMs, logger: options.logger, now: this.now,
    });
    // A shared client reports to the instance that uses it last: the same upstream either way.
    options.client.onExchange = (outcome) => this.observeExchange(outcome.answered, outcome.answered ? undefined : outcome.error);
  }

  // ---- InstancePlatform (src/subscriptions/platform.ts)
  readonly configurationRefusal = configurationRefusal;

  async listSubscriptions(signal?: AbortSignal): Promise<ActualSubscription[]> {
    // Tolerant: one entry we cannot read (another app's odd subscription) must not stop the
    // management of ours; it comes back marked unreadable, with why (issue 13 point 2).
    const { subscriptions: subs, unreadable } = await this.call(HV_METHODS.GetEventSubscriptions, buildGetEventSubscriptionsInfo, parseGetEventSubscriptionsListing, signal);
    const odd = unreadable.map((u): ActualSubscription => ({
      id: (u.id ?? '').toLowerCase(), url: u.url ?? '', typeIds: [], keyVersionId: '',
      unreadable: `listing entry ${u.position}: ${u.reason}`,
    }));
    return subs.map((s): ActualSubscription => ({
      id: (s.id ?? '').toLowerCase(),
      url: s.url,
      // The reconciler compares one flat set; filters are an encoding detail (§1.1: any filter fires).
      typeIds: [...new Set(s.typeIds.flat().map((t) => t.toLowerCase()))].sort(),
      // Unkeyed listings still carry the version id (§1.4); '' only if the platform omitted it [I].
      keyVersionId: s.keyVersionId ?? '',
    })).concat(odd);
  }

  subscribe(s: SubscriptionWrite, signal?: AbortSignal): Promise<string> {
    return this.call(HV_METHODS.SubscribeToEvent, () => buildSubscribeToEventInfo(toSpec(s)), parseSubscribeToEventResponse, signal).then((id) => id.toLowerCase());
  }

  update(id: string, s: SubscriptionWrite, signal?: AbortSignal): Promise<void> {
    return this.call(HV_METHODS.UpdateEventSubscription, () => buildUpdateEventSubscriptionInfo({ ...toSpec(s), id }), parseUpdateEventSubscriptionResponse, signal);
  }

  async unsubscribe(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call(HV_METHODS.UnsubscribeToEvent, () => buildUnsubscribeToEventInfo(id), parseUnsubscribeToEventResponse, signal);
    } catch (err) {
      // 132: the platform no longer knows it (deleted meanwhile, or a retried call whose first
      // attempt landed) — gone is what was asked, so it counts as deleted (InstancePlatform)
      if (isHvgError(err) && err.details?.hvStatus === HV_STATUS_SUBSCRIPTION_NOT_FOUND) return;
      throw err;
    }
  }

  // ---- instance methods beyond eventing

  /**
   * GetThings v3 in this instance, offline for the query's person (§4.6; src/instances/things.ts
   * for batching and what rejects). Session renewal as for every call: one re-auth on 65/8/7.
   */
  getThings(query: ThingsQuery, signal?: AbortSignal): Promise<ThingsAnswer> {
    const target: OfflineTarget = { recordId: query.recordId, offlinePersonId: query.personId };
    const send = (ids: readonly string[], sig?: AbortSignal) => this.thingsLimiter.run(
      () => this.call(HV_METHODS.GetThings, () => buildGetThingsInfo({ thingIds: ids, typeVersionFormats: query.typeVersionFormats ?? [] }), parseGetThingsResponse, sig, target), sig);
    return readThings(query, send, (this.o.things ?? DEFAULT_THINGS_READ).batchSize, signal).catch((err: unknown) => {
      throw forInstance(err, this.label, this.instanceId);
    });
  }

  /** SelectInstance v1 over the app session (§3.3); undefined = the location is not served. */
  selectInstance(location: PreferredLocation, signal?: AbortSignal): Promise<ServiceInstance | undefined> {
    return this.call(HV_METHODS.SelectInstance, () => buildSelectInstanceInfo(location), parseSelectInstanceResponse, signal);
  }

  /**
   * Asks the platform which instance it is (GetServiceDefinition topology, anonymous, §3.2) and
   * compares with our id. A mismatch blocks every call: subscribing in the wrong instance would
   * tag its notifications with the wrong instance id.
   */
  verifyIdentity(signal?: AbortSignal): Promise<void> {
    this.identityInflight ??= this.checkIdentity().finally(() => {
      this.identityInflight = undefined;
    });
    return abortable(this.identityInflight, signal);
  }

  /** Background health check: identity again, and a session (cached unless near expiry). Never throws. */
  async probe(signal?: AbortSignal): Promise<void> {
    try {
      await this.verifyIdentity(signal);
      await this.session.get(signal);
      this.probeError = undefined;
      this.recordSuccess();
    } catch (err) {
      if (signal?.aborted) return;
      this.probeError = forInstance(err, this.label, this.instanceId);
      this.recordFailure(this.probeError);
    }
  }

  status(): HvInstanceStatus {
    return {
      id: this.info.id, name: this.info.name, description: this.info.description,
      platformUrl: this.info.platformUrl, shellUrl: this.info.shellUrl,
      reachable: this.reachable,
      identity: this.identity.state,
      lastError: this.lastError === undefined ? null : summarize(this.lastError.error, this.lastError.at),
      lastSuccessAt: this.lastSuccessAt === undefined ? null : new Date(this.lastSuccessAt).toISOString(),
      session: this.session.status(),
    };
  }

  /**
   * Problems no retry fixes: wrong identity, refused credential, or a probe the platform refused
   * (e.g. 6 INVALID_APP: the app is not configured in this instance). Unreachable is not one.
   */
  problems(): HvgError[] {
    const out: HvgError[] = [];
    if (this.identity.state === 'mismatch' && this.identity.error) out.push(this.identity.error);
    const refusal = this.session.refusal();
    if (refusal) out.push(refusal);
    const probe = this.probeError;
    if (isHvgError(probe) && !probe.retriable && !out.some((e) => e.message === probe.message)) out.push(probe);
    return out;
  }

  /** Observes every transport attempt; wired by the registry. */
  observeExchange(answered: boolean, error?: HvgError): void {
    if (answered) this.reachable = true;
    else if (error?.code === 'HVG_ERR_INSTANCE_UNREACHABLE' || error?.code === 'HVG_ERR_INSTANCE_UNAVAILABLE') this.reachable = false;
  }

  async close(): Promise<void> {
    if (this.o.ownsClient) await this.client.close();
  }

  // ---- internals

  private async checkIdentity(): Promise<void> {
    const response = await this.client.send(
      () => buildAnonymousRequest({
        method: HV_METHODS.GetServiceDefinition.name, methodVersion: HV_METHODS.GetServiceDefinition.version,
        appId: this.o.credentials.appId, msgTime: new Date(this.now()), msgTtl: this.o.msgTtlSeconds, version: this.o.clientVersion,
        info: buildGetServiceDefinitionInfo({ sections: ['topology'] }),
      }),
      { method: HV_METHODS.GetServiceDefinition.name },
    );
    const def = parseGetServiceDefinitionResponse(response);
    const said = def.modified ? def.currentInstanceId : undefined;
    if (said === this.instanceId) {
      this.identity = { state: 'verified' };
      return;
    }
    const error = new HvgError('HVG_ERR_INSTANCE_MISMATCH',
      `${this.label}: the platform at ${this.info.platformUrl} ${said === undefined ? 'does not say which instance it is' : `says it is instance "${said}"`} ` +
      '(GetServiceDefinition current-instance-id); calls to it are refused until the registry and the platform agree',
      { details: { instanceId: this.instanceId, platformUrl: this.info.platformUrl, currentInstanceId: said ?? null } });
    this.identity = { state: 'mismatch', error };
    throw error;
  }

  private async ensureIdentity(signal?: AbortSignal): Promise<void> {
    if (this.identity.state === 'verified') return;
    if (this.identity.state === 'mismatch' && this.identity.error) throw this.identity.error;
    await this.verifyIdentity(signal);
  }

  /** `buildInfo` runs inside: a bad write rejects (named and coded) instead of throwing, and sends nothing. */
  private async call<T>(method: MethodSpec, buildInfo: () => string, parse: (r: ParsedResponse) => T, signal?: AbortSignal, target?: OfflineTarget): Promise<T> {
    try {
      const info = buildInfo();
      await this.ensureIdentity(signal);
      let session = await this.session.get(signal);
      let response = await this.sendAuthenticated(method, info, session, signal, target);
      if (needsNewSession(response.code)) {
        // §4.4: get a new token and resend once (65 expired, 8 unknown/forgotten, 7 credential
        // expired). Concurrent callers share the one CAST. A second refusal goes to the caller
        // (retriable) and shows as session state "rejected" until a call is accepted again.
        session = await this.session.renew(session, signal);
        response = await this.sendAuthenticated(method, info, session, signal, target);
        if (needsNewSession(response.code)) {
          this.session.rejected(session, forInstance(statusError(response.code, `${method.name} refused a freshly renewed session token`), this.label, this.instanceId));
        }
      }
      if (!needsNewSession(response.code)) this.session.accepted();
      let result: T;
      try {
        result = parse(response);
      } catch (err) {
        throw isHvgError(err) && (err.code.startsWith('HVG_ERR_XML') || err.code === 'HVG_ERR_PROTOCOL')
          ? new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `unreadable ${method.name} answer: ${err.message}`, { cause: err })
          : err;
      }
      this.recordSuccess();
      return result;
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err;
      const e = forInstance(err, this.label, this.instanceId);
      // a write the codec refused is the caller's problem, not the instance's; nor is one person's
      // record the app may not read offline (§4.6.7)
      const personal = target !== undefined && isHvgError(e) && GETTHINGS_UNREADABLE_STATUSES.has(Number(e.details?.hvStatus));
      if (!(isHvgError(e) && e.code === 'HVG_ERR_VALIDATION') && !personal) this.recordFailure(e);
      throw e;
    }
  }

  private sendAuthenticated(method: MethodSpec, info: string, session: Session, signal?: AbortSignal, target?: OfflineTarget): Promise<ParsedResponse> {
    return this.client.send(
      () => buildAuthenticatedRequest({
        method: method.name, methodVersion: method.version, info, ...target,
        authToken: session.token, sharedSecret: session.sharedSecret,
        msgTime: new Date(this.now()), msgTtl: this.o.msgTtlSeconds, version: this.o.clientVersion,
      }),
      { method: method.name, signal, idempotent: method.name !== HV_METHODS.SubscribeToEvent.name },
    );
  }

  private recordSuccess(): void {
    this.lastSuccessAt = this.now();
  }

  private recordFailure(err: unknown): void {
    this.lastError = { error: err, at: this.now() };
  }
}

/** Statuses that mean our session token is no longer good (status table: "reauthenticate"). */
function needsNewSession(code: number): boolean {
  return code !== 0 && statusInfo(code).retry === 'reauthenticate';
}

/** The reconciler writes one flat type-id set; HealthVault gets it as one filter (§1.2). */
function toSpec(s: SubscriptionWrite) {
  return { key: s.key, keyVersionId: s.keyVersionId, url: s.url, typeIds: [[...s.typeIds]] };
}

