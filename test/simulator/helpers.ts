// Shared by the simulator tests: a simulator on 127.0.0.1 port 0 that is always closed, a tiny
// platform client built on the codec (so every request is what a real client would send), and a
// real HTTP receiver that records notification POSTs.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { Agent, request } from 'undici';
import {
  buildAnonymousRequest, buildAuthenticatedRequest, buildCastRequest, parseCastResponse, parseResponse,
} from '../../src/healthvault/index.ts';
import type { AuthenticatedRequestOptions, HmacAlgorithm, ParsedResponse } from '../../src/healthvault/index.ts';
import { APP_CERT_PEM, APP_ID, APP_KEY_PEM } from '../../support/fixtures.ts';

export { ACTION_URL, APP_CERT_PEM, APP_ID, APP_KEY_PEM, GLUCOSE, PRESSURE, TEST_APP, WEIGHT } from '../../support/fixtures.ts';
export { startSim } from '../helpers/sim.ts';
export const NOTIFY_URL = 'https://gw.test/hv/notifications/us';
export const KEY_A = Buffer.alloc(64, 7).toString('base64');

/** One undici Agent per test file, closed at teardown. */
export function client(t: Test): Agent {
  const agent = new Agent({ connect: { timeout: 5000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  t.teardown(() => agent.close());
  return agent;
}

export interface RawAnswer {
  readonly httpStatus: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}

export async function post(agent: Agent, url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await request(url, { dispatcher: agent, method: 'POST', body, headers: { 'content-type': 'text/xml', ...headers } });
  return { httpStatus: res.statusCode, body: await res.body.text(), headers: res.headers as IncomingHttpHeaders };
}

/** POSTs and parses the envelope; asserts HTTP 200 (application errors are status codes, §4.1). */
export async function platform(t: Test, agent: Agent, url: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<ParsedResponse> {
  const answer = await post(agent, url, body, headers);
  t.equal(answer.httpStatus, 200, 'platform answers HTTP 200');
  return parseResponse(answer.body);
}

export const HEADER = { version: 'hv-gateway-test/1.0', msgTtl: 1800 } as const;

export function castXml(options: { appId?: string; privateKey?: string; certificate?: string; signingTime?: Date; hmacAlgorithm?: HmacAlgorithm } = {}): string {
  return buildCastRequest({
    ...HEADER, msgTime: new Date(), appId: options.appId ?? APP_ID,
    credential: { privateKey: options.privateKey ?? APP_KEY_PEM, certificate: options.certificate ?? APP_CERT_PEM },
    ...(options.signingTime === undefined ? {} : { signingTime: options.signingTime }),
    ...(options.hmacAlgorithm === undefined ? {} : { hmacAlgorithm: options.hmacAlgorithm }),
  });
}

export interface TestSession {
  readonly url: string;
  readonly token: string;
  readonly sharedSecret: string;
  readonly hmacAlgorithm: HmacAlgorithm;
}

export async function cast(t: Test, agent: Agent, url: string, hmacAlgorithm: HmacAlgorithm = 'HMACSHA256'): Promise<TestSession> {
  const session = parseCastResponse(await platform(t, agent, url, castXml({ hmacAlgorithm })));
  return { url, token: session.token, sharedSecret: session.sharedSecret, hmacAlgorithm };
}

export function signed(session: TestSession, method: string, methodVersion: number, info: string, overrides: Partial<AuthenticatedRequestOptions> = {}): string {
  return buildAuthenticatedRequest({
    ...HEADER, msgTime: new Date(), method, methodVersion, info, authToken: session.token, sharedSecret: session.sharedSecret,
    hmacAlgorithm: session.hmacAlgorithm, ...overrides,
  });
}

export async function call(t: Test, agent: Agent, session: TestSession, method: string, version: number, info: string, overrides?: Partial<AuthenticatedRequestOptions>): Promise<ParsedResponse> {
  return platform(t, agent, session.url, signed(session, method, version, info, overrides));
}

export function anonymous(method: string, methodVersion: number, info: string, appId = APP_ID): string {
  return buildAnonymousRequest({ ...HEADER, msgTime: new Date(), method, methodVersion, info, appId });
}

export interface ReceivedPost {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

export interface Receiver {
  readonly base: string;
  readonly posts: ReceivedPost[];
  /** Status codes to answer, in order; 200 once exhausted. */
  statuses: number[];
  /** Milliseconds to wait before answering (timeouts). */
  delayMs: number;
}

/** A real HTTP server that records every request and answers from `statuses`. */
export async function startReceiver(t: Test): Promise<Receiver> {
  const receiver: Receiver = { base: '', posts: [], statuses: [], delayMs: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.posts.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      const status = receiver.statuses.shift() ?? 200;
      setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no'), receiver.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  (receiver as { base: string }).base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return receiver;
}

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
