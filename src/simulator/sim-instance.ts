// One simulated HealthVault instance (healthvault-protocol.md §3.1): its own platform port, its own
// sessions, subscriptions, people/records/things and delivery queue; only the topology and the
// application registrations are shared. The methods below are the control surface (the control
// API and in-process tests call the same ones).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { requireGuid, validateSubscriptionSpec } from '../healthvault/index.ts';
import type { ServiceInstance } from '../healthvault/index.ts';
import type { InstanceSpec, RegisteredApp, ResolvedConfig } from './sim-config.ts';
import type { DeliveryClient } from './delivery-client.ts';
import type { BatchView } from './delivery-log.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import type { DeliveryFilter, DeliveryStats } from './delivery-queue.ts';
import type { PlatformContext } from './platform-context.ts';
import { PLATFORM_PATH, startPlatformServer } from './platform-server.ts';
import type { PlatformFaults, PlatformServer } from './platform-server.ts';
import { checkThingContent, RecordStore } from './record-store.ts';
import type { PersonInput, PersonView, ThingContent, ThingView } from './record-store.ts';
import type { OfflineAccessView } from './offline-access.ts';
import { checkQuirks, oddSubscriptionXml, type SimQuirks } from './quirks.ts';
import { SessionStore } from './sessions.ts';
import { SimSubscriptionStore, subscriptionView } from './subscription-store.ts';
import type { SimSubscriptionView } from './subscription-store.ts';
import type { Topology } from './topology.ts';

export interface InstanceInfo extends ServiceInstance {
  readonly port: number;
}

export interface InstanceStats {
  /** method → status code (or "http500") → count. */
  readonly requests: Record<string, Record<string, number>>;
  readonly delivery: DeliveryStats;
  readonly sessions: number;
  readonly subscriptions: number;
  readonly people: number;
  readonly things: number;
}

export interface SimSubscriptionInput {
  readonly appId: string;
  readonly url: string;
  readonly keyVersionId: string;
  /** Base64 of 64 bytes; random when omitted. */
  readonly key?: string;
  readonly typeIds: string[][];
}

export type SimSubscriptionPatch = Partial<Omit<SimSubscriptionInput, 'appId'>>;

const FAULT_CHECKS: Record<keyof PlatformFaults, (v: unknown) => boolean> = {
  down: (v) => typeof v === 'boolean',
  slowMs: (v) => Number.isInteger(v) && (v as number) >= 0,
  platform5xx: (v) => typeof v === 'boolean' || (Number.isInteger(v) && (v as number) >= 0),
  dropNotifications: (v) => typeof v === 'boolean',
};

/** Programmatic callers get the same checks as the control API's schema. */
function checkFaults(patch: Partial<PlatformFaults>): void {
  for (const [key, value] of Object.entries(patch)) {
    const check = FAULT_CHECKS[key as keyof PlatformFaults] as ((v: unknown) => boolean) | undefined;
    if (check === undefined) throw new HvgError('HVG_ERR_VALIDATION', `unknown fault ${JSON.stringify(key)} (known: ${Object.keys(FAULT_CHECKS).join(', ')})`);
    if (value !== undefined && !check(value)) throw new HvgError('HVG_ERR_VALIDATION', `fault ${key} has an invalid value ${JSON.stringify(value)}`);
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class SimInstance {
  readonly id: string;
  readonly #spec: InstanceSpec;
  readonly #config: ResolvedConfig;
  readonly #topology: Topology;
  readonly #log: Logger;
  readonly sessions: SessionStore;
  readonly subscriptions: SimSubscriptionStore;
  readonly records: RecordStore;
  readonly delivery: DeliveryQueue;
  readonly faults: PlatformFaults = { down: false, slowMs: 0, platform5xx: false, dropNotifications: false };
  /** This instance's switches (quirks.ts), starting from the config's. */
  readonly quirks: SimQuirks;
  /** Raw listing entries of the odd foreign subscriptions (quirk oddForeignSubscriptions). */
  #odd: { readonly kind: string; readonly id: string; readonly xml: string }[] = [];
  readonly #requests: Record<string, Record<string, number>> = {};
  #server: PlatformServer | undefined;
  #info: InstanceInfo | undefined;

  constructor(options: { id: string; spec: InstanceSpec; config: ResolvedConfig; topology: Topology; client: DeliveryClient; logger: Logger }) {
    this.id = options.id;
    this.#spec = options.spec;
    this.#config = options.config;
    this.#topology = options.topology;
    this.#log = options.logger;
    this.sessions = new SessionStore(options.config.tokenTtlMs);
    this.subscriptions = new SimSubscriptionStore(options.config.thingTypeFamilies);
    this.quirks = { ...options.config.quirks, oddForeignSubscriptions: [...options.config.quirks.oddForeignSubscriptions] };
    this.#refreshOdd();
    this.delivery = new DeliveryQueue({
      instanceId: this.id, config: options.config, subscriptions: this.subscriptions, client: options.client, logger: options.logger, quirks: this.quirks,
    });
    this.records = new RecordStore((change) => this.delivery.onChange(change));
  }

  /** Listens, then joins the shared topology (which bumps its updated-date). */
  async start(): Promise<InstanceInfo> {
    const context: PlatformContext = {
      instanceId: this.id, config: this.#config, topology: this.#topology, sessions: this.sessions, subscriptions: this.subscriptions, records: this.records,
      quirks: this.quirks, oddSubscriptions: () => this.#odd.map((o) => o.xml),
      appFor: (appId) => this.appFor(appId),
    };
    this.#server = await startPlatformServer({
      context, faults: this.faults, logger: this.#log,
      record: (method, status) => {
        const byStatus = (this.#requests[method] ??= {});
        byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
      },
    }, this.#config.host, this.#spec.port ?? 0);
    const port = this.#server.port;
    const base = `http://${hostForUrl(this.#config.advertisedHost)}:${port}`;
    this.#info = {
      id: this.id,
      name: this.#spec.name ?? `Instance ${this.id}`,
      description: this.#spec.description ?? `Simulated HealthVault instance ${this.id}`,
      platformUrl: `${base}${PLATFORM_PATH}`,
      // [I] The simulator serves no Shell; this URL only fills the topology.
      shellUrl: this.#spec.shellUrl ?? `${base}/shell/`,
      port,
    };
    const { id, name, description, platformUrl, shellUrl } = this.#info;
    this.#topology.add({ id, name, description, platformUrl, shellUrl });
    return this.#info;
  }

  get info(): InstanceInfo {
    if (this.#info === undefined) throw new HvgError('HVG_ERR_INTERNAL', `instance ${this.id} is not started`);
    return this.#info;
  }

  appFor(appId: string | undefined): RegisteredApp | undefined {
    const app = appId === undefined ? undefined : this.#config.applications.get(appId.toLowerCase());
    return app !== undefined && (app.instances === undefined || app.instances.has(this.id)) ? app : undefined;
  }

  // ---- people, records, things (each change feeds the delivery queue)

  /** A name, or fixed ids (the same record id may exist in another instance with other data, §3.1). */
  createPerson(input?: string | PersonInput): PersonView {
    const p = typeof input === 'string' ? { name: input } : input ?? {};
    if (p.personId !== undefined) requireGuid(p.personId, 'personId');
    if (p.recordId !== undefined) requireGuid(p.recordId, 'recordId');
    return this.records.createPerson(p);
  }

  addThing(recordId: string, typeId: string, content: ThingContent & { thingId?: string | undefined } = {}): ThingView {
    checkThingContent({ ...content, typeId });
    return this.records.addThing(recordId, typeId, content);
  }

  /** A new version (new version stamp); a string is the new type id, as before GetThings existed. */
  updateThing(thingId: string, patch?: string | (ThingContent & { typeId?: string | undefined })): ThingView {
    const p = typeof patch === 'string' ? { typeId: patch } : patch ?? {};
    checkThingContent(p);
    return this.records.updateThing(thingId, p);
  }

  deleteThing(thingId: string): ThingView {
    return this.records.deleteThing(thingId);
  }

  // ---- offline access per (person, app), checked by GetThings (§4.6.1)

  offlineAccess(personId: string): OfflineAccessView {
    return this.records.offline.view(personId) ?? this.#noPerson(personId);
  }

  /** typeIds undefined = every type; things of other types are left out of GetThings answers (§4.6.6). */
  grantOfflineAccess(personId: string, appId: string, typeIds?: readonly string[]): OfflineAccessView {
    requireGuid(appId, 'appId');
    for (const t of typeIds ?? []) requireGuid(t, 'typeIds[]');
    if (!this.records.offline.grant(personId, appId, typeIds)) this.#noPerson(personId);
    return this.offlineAccess(personId);
  }

  /** GetThings for this (person, app) answers 11 ACCESS_DENIED from now on. */
  revokeOfflineAccess(personId: string, appId: string): OfflineAccessView {
    requireGuid(appId, 'appId');
    if (!this.records.offline.revoke(personId, appId)) this.#noPerson(personId);
    return this.offlineAccess(personId);
  }

  #noPerson(personId: string): never {
    throw new HvgError('HVG_ERR_NOT_FOUND', `person ${personId} does not exist in instance ${this.id}`);
  }

  // ---- subscriptions behind the app's back (drift for the gateway's reconciler to find)

  listSubscriptions(): SimSubscriptionView[] {
    return this.subscriptions.all().map(subscriptionView);
  }

  /** Creates one directly: neither the URL-root rule nor the limit applies (a "foreign" one). */
  createSubscription(input: SimSubscriptionInput): SimSubscriptionView {
    requireGuid(input.appId, 'appId');
    const spec = { key: input.key ?? randomBytes(64), keyVersionId: input.keyVersionId, url: input.url, typeIds: input.typeIds };
    const key = validateSubscriptionSpec(spec);
    return subscriptionView(this.subscriptions.create(input.appId.toLowerCase(), { key, keyVersionId: spec.keyVersionId, url: spec.url, typeIds: spec.typeIds }));
  }

  alterSubscription(id: string, patch: SimSubscriptionPatch): SimSubscriptionView {
    const sub = this.subscriptions.get(id) ?? this.#noSubscription(id);
    return subscriptionView(this.subscriptions.alter(sub, patch));
  }

  deleteSubscription(id: string): SimSubscriptionView {
    const sub = this.subscriptions.get(id) ?? this.#noSubscription(id);
    this.subscriptions.delete(sub.id);
    return subscriptionView(sub);
  }

  #noSubscription(id: string): never {
    throw new HvgError('HVG_ERR_NOT_FOUND', `subscription ${id} does not exist in instance ${this.id}`);
  }

  // ---- delivery log, faults, statistics

  deliveries(filter: DeliveryFilter = {}): BatchView[] {
    return this.delivery.list(filter);
  }

  setFaults(patch: Partial<PlatformFaults>): PlatformFaults {
    checkFaults(patch);
    const wasDown = this.faults.down;
    Object.assign(this.faults, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
    this.delivery.dropNotifications = this.faults.dropNotifications;
    if (this.faults.down && !wasDown) {
      this.#server?.dropConnections();
      this.delivery.pause();
      this.#log.info('instance is down (fault)');
    } else if (!this.faults.down && wasDown) {
      this.delivery.resume();
      this.#log.info('instance is up again');
    }
    return { ...this.faults };
  }

  /** Every session token of this instance answers 65 from now on (§4.4). */
  expireTokens(): number {
    return this.sessions.expireAll();
  }

  /** The instance forgets every session, as after a restart or failover: old tokens are unknown (quirk unknownTokenStatus says 65 or 8). */
  forgetSessions(): number {
    return this.sessions.forgetAll();
  }

  /** Changes some switches; the rest stay. Odd foreign subscriptions are re-created with new ids. */
  setQuirks(patch: Partial<SimQuirks>): SimQuirks {
    checkQuirks(patch);
    Object.assign(this.quirks, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
    if (patch.oddForeignSubscriptions !== undefined) this.#refreshOdd();
    return this.quirkView();
  }

  quirkView(): SimQuirks & { oddSubscriptionIds: string[] } {
    return { ...this.quirks, oddForeignSubscriptions: [...this.quirks.oddForeignSubscriptions], oddSubscriptionIds: this.#odd.map((o) => o.id) };
  }

  #refreshOdd(): void {
    this.#odd = this.quirks.oddForeignSubscriptions.map((kind) => {
      const id = randomUUID();
      return { kind, id, xml: oddSubscriptionXml(kind, id) };
    });
  }

  stats(): InstanceStats {
    const counts = this.records.counts;
    return {
      requests: structuredClone(this.#requests), delivery: { ...this.delivery.stats }, sessions: this.sessions.size,
      subscriptions: this.subscriptions.all().length, people: counts.people, things: counts.things,
    };
  }

  async close(): Promise<void> {
    this.delivery.close();
    await this.#server?.close();
  }
}
