// Admin view of the instances (healthvault-protocol.md §3): GET /v1/instances lists what the
// registry knows (reachability, identity, last error, session state); GET /v1/instances/select
// asks the default instance which instance serves a country (SelectInstance, §3.3).
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { HvgError } from '../errors.ts';

const nullableString = { type: ['string', 'null'] } as const;
const errorSummary = {
  type: ['object', 'null'],
  properties: {
    code: { type: 'string' }, message: { type: 'string' }, retriable: { type: 'boolean' },
    hvStatus: { type: ['integer', 'null'] }, at: { type: 'string' },
  },
  required: ['code', 'message', 'retriable', 'hvStatus', 'at'],
} as const;
const instanceInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' },
    platformUrl: { type: 'string' }, shellUrl: { type: 'string' },
  },
  required: ['id', 'name', 'platformUrl', 'shellUrl'],
} as const;
const errorBody = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } as const;

const listSchema = {
  response: {
    200: {
      type: 'object',
      properties: {
        topology: {
          type: 'object',
          properties: {
            mode: { type: 'string', enum: ['explicit', 'discovery'] },
            discoveryUrl: nullableString, defaultInstanceId: nullableString, updatedDate: nullableString,
            refreshIntervalMs: { type: 'integer' }, lastRefreshAt: nullableString, lastRefreshOkAt: nullableString,
            lastRefreshError: errorSummary,
          },
          required: ['mode', 'defaultInstanceId', 'lastRefreshAt', 'lastRefreshOkAt', 'lastRefreshError'],
        },
        instances: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              ...instanceInfo.properties,
              supported: { type: 'boolean' }, isDefault: { type: 'boolean' },
              reachable: { type: ['boolean', 'null'] },
              identity: { type: 'string', enum: ['unverified', 'verified', 'mismatch'] },
              lastError: errorSummary, lastSuccessAt: nullableString,
              session: {
                type: 'object',
                properties: {
                  state: { type: 'string', enum: ['none', 'authenticating', 'active', 'failed', 'rejected'] },
                  obtainedAt: nullableString, expiresAt: nullableString, lastError: errorSummary, casts: { type: 'integer' },
                  rejections: { type: 'integer', description: 'answers (7, 8, 65) that retired our token; each led to one new session' },
                },
                required: ['state', 'expiresAt', 'lastError'],
              },
            },
            required: ['id', 'name', 'platformUrl', 'shellUrl', 'supported', 'reachable', 'identity', 'lastError', 'session'],
          },
        },
      },
      required: ['topology', 'instances'],
    },
  },
} as const;

const selectSchema = {
  querystring: {
    type: 'object',
    properties: { country: { type: 'string' }, stateProvince: { type: 'string' } },
  },
  response: {
    200: {
      type: 'object',
      properties: { country: { type: 'string' }, instance: instanceInfo, supported: { type: 'boolean' } },
      required: ['country', 'instance', 'supported'],
    },
    '4xx': errorBody,
    '5xx': errorBody,
  },
} as const;

// ISO 3166-1 alpha-2 and ISO 3166-2 subdivision codes (§3.3); case is normalised, not guessed.
const COUNTRY = /^[A-Za-z]{2}$/;
const SUBDIVISION = /^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$/;

const instancesRoutes: FastifyPluginAsync = async (app) => {
  app.get('/v1/instances', { schema: listSchema }, async () => ({ topology: app.instances.topology(), instances: app.instances.instances() }));

  app.get<{ Querystring: { country?: string; stateProvince?: string } }>('/v1/instances/select', { schema: selectSchema }, async (req, reply) => {
    const { country, stateProvince } = req.query;
    if (country === undefined || !COUNTRY.test(country)) {
      throw new HvgError('HVG_ERR_INVALID_COUNTRY', `country must be an ISO 3166-1 alpha-2 code such as "DE", got ${JSON.stringify(country ?? null)}`);
    }
    if (stateProvince !== undefined && !SUBDIVISION.test(stateProvince)) {
      throw new HvgError('HVG_ERR_INVALID_COUNTRY', `stateProvince must be an ISO 3166-2 code such as "US-WA", got ${JSON.stringify(stateProvince)}`);
    }
    const code = country.toUpperCase();
    const selected = await app.instances.selectInstance(
      { country: code, ...(stateProvince === undefined ? {} : { stateProvince: stateProvince.toUpperCase() }) },
      abortOnClose(reply.raw),
    );
    if (selected === undefined) throw new HvgError('HVG_ERR_NO_INSTANCE_FOR_COUNTRY', `HealthVault serves no instance for country ${code}`);
    return { country: code, instance: selected, supported: app.instances.platform(selected.id) !== undefined };
  });
};

/** Stops waiting on HealthVault when the client went away before the answer was written. */
function abortOnClose(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort(new Error('client closed the request'));
  });
  return ac.signal;
}

export default instancesRoutes;
