// Schemas shared by the routes, in TypeBox: each is a JSON Schema value (what Fastify validates
// and serializes with, and what @fastify/swagger puts into /openapi.json) and, through the
// TypeBox type provider, the TypeScript type of the request or answer it describes — one
// definition, no hand-written generic repeating it. Enums come from the model's own lists.
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import { SESSION_STATES } from '../instances/app-session.ts';
import { IDENTITY_STATES, TOPOLOGY_MODES } from '../instances/instance-types.ts';
import { EVENT_TYPES, SYNC_STATES } from '../subscriptions/model.ts';

/** `{ type: [T, 'null'] }`: the compact nullable form (one type array, as the document had it). */
export const Nullable = <T extends TSchema & { type: string }>(schema: T): TUnsafe<Static<T> | null> =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

/** An array the answer takes from the model as it is (readonly there). */
export const List = <T extends TSchema>(items: T, options: { description?: string } = {}): TUnsafe<readonly Static<T>[]> => Type.Unsafe<readonly Static<T>[]>(Type.Array(items, options));

/** No body (204, 304): the handler sends nothing. */
export const NoBody = (description?: string): TUnsafe<void> => Type.Unsafe<void>(Type.Null(description === undefined ? {} : { description }));

/** A string enum from the model's `as const` list: `{ type: 'string', enum: [...] }`. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const NullableString = Nullable(Type.String());
export const NullableInteger = Nullable(Type.Integer());

/** Every error answer: a stable code of the catalogue (src/errors.ts) and what to fix. */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

/** The given statuses each answered with ErrorBody. */
export function errorResponses<const S extends readonly (number | '4xx' | '5xx')[]>(...statuses: S): { [K in S[number]]: typeof ErrorBody } {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as { [K in S[number]]: typeof ErrorBody };
}

// ---- instances (src/instances/) ----

export const ErrorSummary = Nullable(Type.Object({
  code: Type.String(), message: Type.String(), retriable: Type.Boolean(),
  hvStatus: NullableInteger, at: Type.String(),
}));

const instanceInfoProperties = {
  id: Type.String(), name: Type.String(), description: Type.Optional(Type.String()),
  platformUrl: Type.String(), shellUrl: Type.String(),
};
export const InstanceInfo = Type.Object(instanceInfoProperties);

export const Topology = Type.Object({
  mode: StringEnum(TOPOLOGY_MODES),
  discoveryUrl: Type.Optional(NullableString), defaultInstanceId: NullableString, updatedDate: Type.Optional(NullableString),
  refreshIntervalMs: Type.Optional(Type.Integer()), lastRefreshAt: NullableString, lastRefreshOkAt: NullableString,
  lastRefreshError: ErrorSummary,
});

export const InstanceStatus = Type.Object({
  ...instanceInfoProperties,
  supported: Type.Boolean(), isDefault: Type.Optional(Type.Boolean()),
  reachable: Nullable(Type.Boolean()),
  identity: StringEnum(IDENTITY_STATES),
  lastError: ErrorSummary, lastSuccessAt: Type.Optional(NullableString),
  session: Type.Object({
    state: StringEnum(SESSION_STATES),
    obtainedAt: Type.Optional(NullableString), expiresAt: NullableString, lastError: ErrorSummary, casts: Type.Optional(Type.Integer()),
    rejections: Type.Optional(Type.Integer({ description: 'answers (7, 8, 65) that retired our token; each led to one new session' })),
  }),
});

// ---- subscriptions (src/subscriptions/model.ts) ----

export const SubscriptionName = Type.Object({ name: Type.String({ maxLength: 63 }) });
export const Preconditions = Type.Object({ 'if-match': Type.Optional(Type.String()), 'if-none-match': Type.Optional(Type.String()) });

export const SubscriptionInput = Type.Object({
  eventType: Type.Optional(StringEnum(EVENT_TYPES, { description: 'the only HealthVault event type' })),
  typeIds: Type.Array(Type.String(), { minItems: 1, maxItems: 100, description: 'thing type ids (GUIDs); a change of any of them notifies' }),
  instances: Type.Optional(Type.Unsafe<string[] | null>({ type: ['array', 'null'], minItems: 1, items: { type: 'string' }, description: 'limit to these instance ids; null or absent = every supported instance' })),
  keyVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'notification key version: omit it, or send current + 1 to rotate the key' })),
  enrich: Type.Optional(Type.Boolean({ default: false, description: "fetch every changed thing (GetThings in the event's own instance) into KAFKA_THINGS_TOPIC; gateway-only, never registered in an instance" })),
}, { additionalProperties: false });

const o = Type.Optional;
export const InstanceState = Type.Object({
  instanceId: o(Type.String()),
  state: o(StringEnum(SYNC_STATES)),
  hvSubscriptionId: o(NullableString),
  callbackUrl: o(Type.String()),
  keyVersion: o(NullableInteger),
  acceptedKeyVersions: o(List(Type.Object({ version: o(Type.Integer()), until: o(NullableString) }), {
    description: 'key versions this instance may sign with now, newest first; until = when it stops being accepted (null: until the instance confirms a newer one)',
  })),
  lastError: o(NullableString),
  lastSync: o(NullableString),
});

/** A subscription as the admin API answers it: the spec, its ETag and its state in every instance. */
export const Subscription = Type.Object({
  name: o(Type.String()),
  eventType: o(Type.String()),
  typeIds: o(List(Type.String())),
  instances: o(Type.Unsafe<readonly string[] | null>({ type: ['array', 'null'], items: { type: 'string' } })),
  keyVersion: o(Type.Integer()),
  previousKeyVersion: o(NullableInteger),
  keyVersionFloor: o(Type.Integer({ description: 'lowest key version that may still be accepted (raised by a revoke)' })),
  keyRotatedAt: o(NullableString),
  enrich: o(Type.Boolean({ description: 'the enrichment stage fetches every changed thing into KAFKA_THINGS_TOPIC (gateway-only; not registered in the instances)' })),
  enrichSince: o(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'when enrich was turned on: events received before it are not enriched' })),
  revision: o(Type.Integer()),
  etag: o(Type.String()),
  createdAt: o(Type.String()),
  updatedAt: o(Type.String()),
  status: o(List(InstanceState)),
});
