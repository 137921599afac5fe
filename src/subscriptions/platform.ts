// What the reconciler needs from an instance, and nothing more. src/instances/ implements it over
// the instance's platform client (signed requests, app session, retries); the reconciler stays
// free of HTTP and XML.

/** A subscription as an instance reports it (GetEventSubscriptions; healthvault-protocol.md §1.4). */
export interface ActualSubscription {
  readonly id: string;
  readonly url: string;
  /** every type id of every filter, lower-case */
  readonly typeIds: readonly string[];
  readonly keyVersionId: string;
  /**
   * Set when the instance listed an entry its strict reader refused: why. id and url are then
   * whatever could be read ('' when nothing); such an entry is reported, never updated.
   */
  readonly unreadable?: string;
}

export interface SubscriptionWrite {
  readonly url: string;
  readonly typeIds: readonly string[];
  readonly keyVersionId: string;
  /** 64-byte notification key (derived; never stored) */
  readonly key: Buffer;
}

export interface InstancePlatform {
  readonly instanceId: string;
  listSubscriptions(signal?: AbortSignal): Promise<ActualSubscription[]>;
  /** SubscribeToEvent; resolves to the platform-assigned subscription id */
  subscribe(s: SubscriptionWrite, signal?: AbortSignal): Promise<string>;
  /** UpdateEventSubscription (URL, filters, key rotation) */
  update(id: string, s: SubscriptionWrite, signal?: AbortSignal): Promise<void>;
  /** UnsubscribeToEvent; resolves when the subscription is gone, also when the platform no longer knew it */
  unsubscribe(id: string, signal?: AbortSignal): Promise<void>;
  /** The status of a refusal by this platform that is a configuration problem (config-errors.ts), else undefined. */
  configurationRefusal(err: unknown): number | undefined;
}

/** The supported instances as the registry currently sees them. */
export interface InstanceDirectory {
  /** ids of the supported instances (stable order) */
  instanceIds(): readonly string[];
  platform(instanceId: string): InstancePlatform | undefined;
  /** notified when the set of supported instances changes (a new instance must be reconciled) */
  onChange(listener: () => void): () => void;
}
