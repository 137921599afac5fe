// The one Fastify instance type of the gateway: its logger is the pino instance built in app.ts
// (so plugins hand app.log to code that takes a pino Logger, no cast), its type provider TypeBox
// (route schemas type the handlers; routes/schemas.ts). Plugins and routes are written against
// it through gatewayPlugin(), which also carries their fastify-plugin metadata: the name other
// plugins depend on and the plugins whose decorators they take (checked at registration). The
// admin plugin keeps fastify's default instance type: it needs no pino and @fastify/rate-limit
// types its hook by the instance it is created on.
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';

export type Gateway = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;
export type GatewayPlugin<O extends FastifyPluginOptions = Record<never, never>> = FastifyPluginAsync<O, RawServerDefault, TypeBoxTypeProvider, Logger>;

export interface PluginMeta {
  /** 'hvg-…': what dependents name */
  name: string;
  /** the plugins whose decorators (or hooks) this one uses */
  dependencies?: string[];
  /** routes: their hooks, parsers and handlers stay in their own scope */
  encapsulate?: boolean;
}

export function gatewayPlugin<O extends FastifyPluginOptions = Record<never, never>>(fn: GatewayPlugin<O>, meta: PluginMeta): GatewayPlugin<O> {
  return fp<O, RawServerDefault, TypeBoxTypeProvider, Logger, GatewayPlugin<O>>(fn, meta);
}
