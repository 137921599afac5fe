// One instance's platform endpoint: POST /platform/wildcat.ashx (healthvault-protocol.md §4.1) on
// its own port, plus the connection-level faults (down, slow, HTTP 5xx) tests inject.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { buildErrorResponse } from '../healthvault/index.ts';
import { handlePlatformRequest, MAX_REQUEST_BYTES } from './platform-handler.ts';
import type { PlatformContext } from './platform-context.ts';
import { S } from './platform-context.ts';

export const PLATFORM_PATH = '/platform/wildcat.ashx';

export interface PlatformFaults {
  /** Connections are destroyed as they arrive (and the instance's deliveries pause). */
  down: boolean;
  /** Delay before every platform answer. */
  slowMs: number;
  /** true = every platform request gets HTTP 500; a number = only the next N requests. */
  platform5xx: boolean | number;
  /** Thing changes produce no notifications. */
  dropNotifications: boolean;
}

export interface PlatformServerDeps {
  readonly context: PlatformContext;
  readonly faults: PlatformFaults;
  readonly record: (method: string, status: number | 'http500') => void;
  readonly logger: Logger;
}

export interface PlatformServer {
  readonly port: number;
  close(): Promise<void>;
  /** Destroys every open connection (used when the instance goes down). */
  dropConnections(): void;
}

function xmlReply(status: number, message: string): string {
  return buildErrorResponse(status, message);
}

export async function startPlatformServer(deps: PlatformServerDeps, host: string, port: number): Promise<PlatformServer> {
  const { context, faults, logger } = deps;
  const app = Fastify({
    loggerInstance: logger,
    // Per-request logs would flood a load test; refusals are logged at debug by the handlers.
    logController: new LogController({ disableRequestLogging: true }),
    // Compressed bodies are never larger than the decompressed limit in practice.
    bodyLimit: MAX_REQUEST_BYTES,
    forceCloseConnections: true,
  });

  const sockets = new Set<Socket>();
  // Runs before the HTTP parser sees the socket: while down nothing is ever answered.
  app.server.prependListener('connection', (socket: Socket) => {
    if (faults.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // Any content type (the SDKs send text/xml or none, §4.1), kept as raw bytes: the hashes and
  // HMAC must be checked over exactly what was received (STYLE §8).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Even HTTP-level refusals answer with an envelope, so a client always reads a status code [I].
  app.setErrorHandler((err: { code?: string; statusCode?: number }, _req, reply) => {
    const tooLong = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const status = tooLong ? S.REQUEST_TOO_LONG : S.INVALID_XML;
    deps.record('(unparsed)', status);
    return reply.code(200).type('text/xml; charset=utf-8').send(xmlReply(status, tooLong ? `request body larger than ${MAX_REQUEST_BYTES} bytes` : 'the request could not be read'));
  });

  app.post(PLATFORM_PATH, async (req, reply) => {
    if (faults.slowMs > 0) await sleep(faults.slowMs);
    if (faults.platform5xx !== false && faults.platform5xx !== 0) {
      if (typeof faults.platform5xx === 'number') faults.platform5xx -= 1;
      deps.record('(any)', 'http500');
      // [I] What the platform's 500 body looked like is unknown; the .NET SDK retries 500s (§4.1).
      return reply.code(500).type('text/plain; charset=utf-8').send('simulated platform failure (fault platform5xx)');
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const encoding = req.headers['content-encoding'];
    const answer = await handlePlatformRequest(context, body, Array.isArray(encoding) ? encoding.join(',') : encoding, logger);
    deps.record(answer.method, answer.status);
    // WC_ResponseId is what the platform returned with every answer [C] (§4.1).
    return reply.code(200).type('text/xml; charset=utf-8').header('WC_ResponseId', randomUUID()).send(answer.xml);
  });

  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: bound,
    close: () => app.close(),
    dropConnections: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
