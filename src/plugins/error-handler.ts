// The gateway's one error handler: every error a route, hook or body parser raises is answered
// here as { code, message } with a stable code of the catalogue (src/errors.ts), its HTTP status,
// and Retry-After when the answered code is retriable. Two audiences:
// - the admin API and the operational routes: the code and message of the error itself (they say
//   what to fix), a validation error as HVG_ERR_VALIDATION naming the unknown fields;
// - the public notification route (route config errorAnswers: 'public'): publicAnswer() hides
//   the inside (broker trouble, internal errors) from the internet; the route's own scope counts
//   and logs its refusals in an onError hook (routes/notifications.ts).
// Also the not-found answer and the router's refusals (frameworkErrors, a Fastify option).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, isHvgError, type ErrorCode } from '../errors.ts';
import { publicAnswer, type PublicAnswer } from '../notifications/answers.ts';
import { gatewayPlugin } from './gateway.ts';
import { validationMessage } from './strict-admin.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public': the route faces the internet; its errors are answered by publicAnswer() */
    errorAnswers?: 'public';
  }
}

export interface ErrorHandlerOptions {
  /** Retry-After (seconds) for a retriable answer that does not carry its own (NOTIFICATION_RETRY_AFTER_SECONDS) */
  retryAfterSeconds: number;
  /** NOTIFICATION_BODY_LIMIT_BYTES, named in the public route's 413 */
  bodyLimitBytes: number;
}

interface ErrorLike {
  statusCode?: number;
  message: string;
  validation?: readonly { keyword: string; instancePath: string; params: Record<string, unknown> }[];
  validationContext?: string;
}

const isCatalogued = (code: string): code is ErrorCode => Object.hasOwn(ERRORS, code);

/** The answer of an admin or operational route: the error's own code and message, nothing hidden. */
export function apiAnswer(err: unknown, req: FastifyRequest, retryAfterSeconds: number): PublicAnswer {
  if (isHvgError(err)) {
    const after = err.details?.retryAfterSeconds;
    return { status: err.statusCode, code: err.code, message: err.message, ...(err.retriable ? { retryAfterSeconds: typeof after === 'number' ? after : retryAfterSeconds } : {}) };
  }
  const e = (err ?? { message: String(err) }) as ErrorLike;
  if (e.validation) return { status: 400, code: 'HVG_ERR_VALIDATION', message: validationMessage(req, e) };
  const status = e.statusCode !== undefined && e.statusCode >= 400 ? e.statusCode : 500;
  if (status >= 500) return { status, code: 'HVG_ERR_INTERNAL', message: 'internal error', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  return { status, code: 'HVG_ERR_BAD_REQUEST', message: e.message };
}

/** The router's own refusals (a URL that does not decode, a path parameter over 100 characters) in our error shape. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  void reply.code(status).send({ code: 'HVG_ERR_BAD_REQUEST', message: `the request was refused: ${err.message}` });
}

export default gatewayPlugin<ErrorHandlerOptions>(
  async (app, opts) => {
    app.setErrorHandler((err, req, reply) => {
      const publicRoute = req.routeOptions.config.errorAnswers === 'public';
      const a = publicRoute ? publicAnswer(err, opts) : apiAnswer(err, req, opts.retryAfterSeconds);
      // Retry-After only where the answered code says a retry can help; a value already set
      // (@fastify/rate-limit's, from its own window) is the more precise one
      const retriable = isCatalogued(a.code) && ERRORS[a.code].retriable;
      if (retriable && a.retryAfterSeconds !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(a.retryAfterSeconds));
      // the public route logs its refusals itself, within its log budget
      if (!publicRoute && a.status >= 500 && a.code === 'HVG_ERR_INTERNAL' && !isHvgError(err)) req.log.error({ err }, 'request failed');
      return reply.code(a.status).send({ code: a.code, message: a.message });
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HVG_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  },
  { name: 'hvg-errors' },
);
