// JSON schemas of the control API bodies. Value rules that belong to the protocol (GUIDs, key
// length, key version pattern, https URL) are left to the codec, which names the bad field.

import { ODD_SUBSCRIPTION_KINDS } from './quirks.ts';

/** What GetThings returns of a thing besides its ids (value rules: record-store.ts checkThingContent). */
const thingContent = {
  typeName: { type: 'string' },
  effectiveDate: { type: 'string' },
  data: { type: 'string', maxLength: 262_144 },
} as const;

const typeIds = { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: { type: 'string' } } } as const;
/** What a subscription carries (the control API's create adds appId; a patch may change any of these). */
const subscriptionFields = { url: { type: 'string' }, keyVersionId: { type: 'string' }, key: { type: 'string' }, typeIds } as const;

export const CONTROL_SCHEMAS = {
  instance: {
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 255 },
      name: { type: 'string', minLength: 1, maxLength: 255 },
      description: { type: 'string', maxLength: 1024 },
      port: { type: 'integer', minimum: 0, maximum: 65535 },
      shellUrl: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
  person: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', maxLength: 255 },
      // Fixed ids, e.g. the same record id in two instances with different data.
      personId: { type: 'string' },
      recordId: { type: 'string' },
      // false: no application may read the record offline until granted (GetThings answers 11).
      offlineAccess: { type: 'boolean' },
    },
  },
  offlineGrant: {
    type: 'object',
    additionalProperties: false,
    properties: { typeIds: { type: 'array', items: { type: 'string' }, maxItems: 1000 } },
  },
  newThing: {
    type: 'object',
    additionalProperties: false,
    required: ['typeId'],
    properties: {
      typeId: { type: 'string' },
      // Several things of one type in one call (load generation); each is its own change.
      count: { type: 'integer', minimum: 1, maximum: 10_000 },
      ...thingContent,
      thingId: { type: 'string' },
    },
  },
  thingUpdate: {
    type: 'object',
    additionalProperties: false,
    properties: { typeId: { type: 'string' }, ...thingContent },
  },
  newSubscription: {
    type: 'object',
    additionalProperties: false,
    required: ['appId', 'url', 'keyVersionId', 'typeIds'],
    properties: { appId: { type: 'string' }, ...subscriptionFields },
  },
  subscriptionPatch: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: subscriptionFields,
  },
  deliveryQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
      subscriptionId: { type: 'string' },
      // Query strings are text (coercion is off): the most recent N matching batches.
      limit: { type: 'string', pattern: '^[1-9][0-9]{0,6}$' },
    },
  },
  faults: {
    type: 'object',
    additionalProperties: false,
    properties: {
      down: { type: 'boolean' },
      slowMs: { type: 'integer', minimum: 0, maximum: 600_000 },
      platform5xx: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }] },
      dropNotifications: { type: 'boolean' },
    },
  },
  quirks: {
    type: 'object',
    additionalProperties: false,
    properties: {
      unknownTokenStatus: { type: 'integer', enum: [65, 8] },
      normaliseUrls: { type: 'boolean' },
      signWithQueuedKey: { type: 'boolean' },
      notificationEncodingDeclaration: { type: ['string', 'null'], pattern: '^[A-Za-z][A-Za-z0-9._-]{0,39}$' },
      oddForeignSubscriptions: { type: 'array', items: { type: 'string', enum: [...ODD_SUBSCRIPTION_KINDS] } },
    },
  },
  rewrites: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to'],
      properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 } },
    },
  },
} as const;
