// The admin API (/v1/*) refuses what it does not understand instead of ignoring it: a typo such
// as {"instance": ["2"]} for {"instances": ["2"]} would otherwise register the subscription in
// every instance — a data-residency mistake made silently (issue 18).
// - every /v1 route's querystring and JSON body schema gets additionalProperties: false (unless
//   the route says otherwise); a route without a querystring schema gets an empty strict one, so
//   GET /v1/subscriptions?dryrun=1 is a 400, not a silently ignored parameter;
// - a /v1 route without a body schema refuses a non-empty body;
// - validation errors name the unknown fields and the allowed ones (validationMessage()).
// The app's Ajv runs with removeAdditional: false (app.ts); with Fastify's default (true) Ajv
// would strip the unknown fields and the request would pass. The schemas are patched in onRoute,
// before Fastify compiles them and before @fastify/swagger reads them, so the OpenAPI document
// shows the same additionalProperties: false.
import type { FastifyRequest, RouteOptions } from 'fastify';
import { HvgError } from '../errors.ts';
import { gatewayPlugin } from './gateway.ts';

type Schema = Record<string, unknown>;

const isAdminRoute = (url: string): boolean => url.startsWith('/v1/');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_NAMED = 10;

/** The schema with additionalProperties: false, when it describes an object and says nothing itself. */
export function strictObject(schema: Schema | undefined): Schema {
  if (schema === undefined) return { type: 'object', properties: {}, additionalProperties: false };
  if (schema.type === 'object' && schema.additionalProperties === undefined) return { ...schema, additionalProperties: false };
  return schema;
}

const quoteAll = (names: readonly string[]): string => {
  const shown = names.slice(0, MAX_NAMED).map((n) => JSON.stringify(n.length > 64 ? `${n.slice(0, 64)}…` : n));
  return `${shown.join(', ')}${names.length > MAX_NAMED ? ` and ${names.length - MAX_NAMED} more` : ''}`;
};

const WHERE: Record<string, [string, string]> = {
  body: ['field', 'in the request body'],
  querystring: ['query parameter', 'in the query string'],
};

/** JSON pointer (Ajv's instancePath) into a value; undefined when it does not lead anywhere. */
function at(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let v = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(v) && !Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

interface ValidationError {
  message: string;
  validation?: readonly { keyword: string; instancePath: string; params: Record<string, unknown> }[];
  validationContext?: string;
}

/**
 * A message that says what to fix. For unknown fields: every unknown name at that place and
 * the allowed ones (Ajv stops at the first unknown one; the request data has them all).
 */
export function validationMessage(req: FastifyRequest, err: ValidationError): string {
  const first = err.validation?.[0];
  const context = err.validationContext ?? 'body';
  if (first?.keyword !== 'additionalProperties') return err.message;
  const [noun, where] = WHERE[context] ?? ['field', `in ${context}`];
  const data = at(context === 'querystring' ? req.query : context === 'params' ? req.params : req.body, first.instancePath);
  const schema = req.routeOptions.schema?.[context as 'body'];
  const properties = first.instancePath === '' && isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : undefined;
  const extra = properties && isObject(data) ? Object.keys(data).filter((k) => !properties.includes(k)) : [String(first.params.additionalProperty)];
  const path = first.instancePath === '' ? '' : ` at ${first.instancePath}`;
  const allowed = properties === undefined ? '' : properties.length === 0 ? ` (this route takes no ${noun}s)` : ` (allowed: ${properties.join(', ')})`;
  return `unknown ${noun}${extra.length > 1 ? 's' : ''} ${quoteAll(extra)} ${where}${path}${allowed}`;
}

const hasContent = (body: unknown): boolean => body !== undefined && body !== null && body !== '' && !(isObject(body) && Object.keys(body).length === 0);

export default gatewayPlugin(
  async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      if (!isAdminRoute(route.url ?? '')) return;
      const schema: Schema = { ...(route.schema ?? {}) };
      schema.querystring = strictObject(isObject(schema.querystring) ? schema.querystring : undefined);
      if (isObject(schema.body)) schema.body = strictObject(schema.body);
      route.schema = schema;
    });
    // a route that takes no body must not silently ignore one (e.g. POST …/rotate-key {"revoke": true})
    app.addHook('preValidation', async (req) => {
      const url = req.routeOptions.url;
      if (url === undefined || !isAdminRoute(url) || req.routeOptions.schema?.body !== undefined || !hasContent(req.body)) return;
      const fields = isObject(req.body) ? ` (got ${quoteAll(Object.keys(req.body))})` : '';
      throw new HvgError('HVG_ERR_VALIDATION', `${req.method} ${url} takes no request body${fields}; send none or {}`);
    });
  },
  { name: 'hvg-strict-admin' },
);
