// The notification body as raw bytes (the HMAC covers them as received), bounded.
// A body over the limit is still read to its end — and thrown away — up to a hard cap, so a
// client that writes its whole body before reading (curl, Python's urllib, most HTTP stacks)
// gets a readable 413 instead of a broken pipe; beyond the cap (declared or counted) the answer
// goes out at once and the connection is closed: the bound on work an anonymous caller can cause.
import type { IncomingMessage } from 'node:http';
import { HvgError } from '../errors.ts';

/** How many bytes of an oversized body are read and discarded before answering 413. */
const discardCapBytes = (limit: number): number => Math.max(4 * 1_048_576, 2 * limit);

export class BodyTooLarge extends HvgError {
  /** true when the rest of the body was not read: the connection must close after the answer */
  readonly unread: boolean;
  constructor(limit: number, unread: boolean) {
    super('HVG_ERR_BODY_TOO_LARGE', `the body is larger than ${limit} bytes (NOTIFICATION_BODY_LIMIT_BYTES)`);
    this.unread = unread;
  }
}

/** Reads `payload` into one Buffer; calls done exactly once. */
export function readRawBody(payload: IncomingMessage, limit: number, done: (err: Error | null, body?: Buffer) => void): void {
  const cap = discardCapBytes(limit);
  const declared = Number(payload.headers['content-length']); // NaN when chunked
  if (declared > cap) {
    done(new BodyTooLarge(limit, true));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = declared > limit;
  let settled = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (settled) return;
    settled = true;
    payload.removeListener('data', onData);
    done(err, body);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (!over && size <= limit) {
      chunks.push(chunk);
      return;
    }
    over = true;
    chunks.length = 0;
    if (size > cap) finish(new BodyTooLarge(limit, true));
  };
  payload.on('data', onData);
  payload.once('end', () => finish(over ? new BodyTooLarge(limit, false) : null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
  payload.once('error', (err) => finish(err));
}
