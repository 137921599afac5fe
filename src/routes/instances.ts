// Admin view of the instances (healthvault-protocol.md §3): GET /v1/instances lists what the
// registry knows (reachability, identity, last error, session state); GET /v1/instances/select
// asks the default instance which instance serves a country (SelectInstance, §3.3).
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { HvgError } from '../errors.ts';
import { gatewayPlugin } from '../plugins/gateway.ts';
import { errorResponses, InstanceInfo, InstanceStatus, Topology } from './schemas.ts';

const listSchema = {
  tags: ['instances'],
  summary: 'The instance registry: every instance with reachability, identity check, last error and session state; the topology refresh',
  response: { 200: Type.Object({ topology: Topology, instances: Type.Array(InstanceStatus) }) },
};

const selectSchema = {
  tags: ['instances'],
  summary: 'Which instance serves a country (SelectInstance through the default instance): 400 for a malformed code, 404 when none serves it',
  querystring: Type.Object({ country: Type.Optional(Type.String()), stateProvince: Type.Optional(Type.String()) }),
  response: {
    200: Type.Object({ country: Type.String(), instance: InstanceInfo, supported: Type.Boolean() }),
    ...errorResponses('4xx', '5xx'),
  },
};

// ISO 3166-1 alpha-2 and ISO 3166-2 subdivision codes (§3.3); case is normalised, not guessed.
const COUNTRY = /^[A-Za-z]{2}$/;
const SUBDIVISION = /^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$/;

export default gatewayPlugin(async (app) => {
  app.get('/v1/instances', { schema: listSchema }, async () => ({ topology: app.instances.topology(), instances: app.instances.instances() }));

  app.get('/v1/instances/select', { schema: selectSchema }, async (req, reply) => {
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
}, { name: 'hvg-routes-instances', dependencies: ['hvg-errors', 'hvg-instances'], encapsulate: true });

/** Stops waiting on HealthVault when the client went away before the answer was written. */
function abortOnClose(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort(new Error('client closed the request'));
  });
  return ac.signal;
}

