// Value rules shared by every part of the codec (healthvault-protocol.md §1.2, §2.3).
// Builders reject bad input with HVG_ERR_VALIDATION (a caller bug or bad user input); parsers of
// received documents use HVG_ERR_XML_UNEXPECTED instead (see safe-xml.ts).
import { HvgError } from '../errors.ts';

/** wc-types:guid (§1.2): 8-4-4-4-12 hex, no braces, either case. */
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * EventingKeyVersionId (§1.2). The XSD writes `^[a-zA-Z0-9-]*$`, which a strict XSD engine reads
 * literally; the .NET SDK and the SDK tests show the intended rule, 1..50 chars [C][I].
 */
const KEY_VERSION_PATTERN = /^[a-zA-Z0-9-]{1,50}$/;

/** notification-key must be the base64 of exactly 64 bytes [S] (§1.2). */
export const NOTIFICATION_KEY_BYTES = 64;

/** HMAC-SHA256 output size, the MAC carried in the notification Authorization header (§2.3). */
export const NOTIFICATION_MAC_BYTES = 32;

/** xs:dateTime, with optional fraction and optional zone (SDK samples carry no zone, §3.2). */
const DATE_TIME_PATTERN = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const WHITESPACE = /[ \t\r\n]/g;

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}

export function isKeyVersionId(value: string): boolean {
  return KEY_VERSION_PATTERN.test(value);
}

export function isDateTime(value: string): boolean {
  return DATE_TIME_PATTERN.test(value);
}

/**
 * Strict standard-alphabet base64 with `=` padding. Buffer.from(s, 'base64') alone silently skips
 * junk and accepts the URL-safe alphabet, so a MAC or key could "decode" from garbage.
 * `ignoreWhitespace` mirrors .NET's decoder, which skips whitespace [I] (§1.2: python clients sent
 * keys wrapped at 76 columns).
 */
export function decodeBase64Strict(value: string, ignoreWhitespace = false): Buffer | undefined {
  const text = ignoreWhitespace ? value.replace(WHITESPACE, '') : value;
  if (text.length === 0 || !BASE64_PATTERN.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Decodes a notification-key; undefined unless it is valid base64 of exactly 64 bytes (§1.2). */
export function decodeNotificationKey(value: string): Buffer | undefined {
  const key = decodeBase64Strict(value, true);
  return key !== undefined && key.length === NOTIFICATION_KEY_BYTES ? key : undefined;
}

/**
 * Subscription URL rule (§1.1): HTTPS only, "must start with https". We also require it to parse
 * as an absolute URL so a typo never reaches the platform.
 */
export function isHttpsUrl(value: string): boolean {
  if (!value.startsWith('https://') || value.length > 1024) return false;
  return URL.canParse(value);
}

/** Shortened, quoted rendering of a received value for error messages (never the whole input). */
export function preview(value: string, max = 48): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Throws HVG_ERR_VALIDATION: used by builders, whose inputs come from our own code or config. */
export function invalid(message: string, details?: Record<string, unknown>): never {
  throw new HvgError('HVG_ERR_VALIDATION', message, details === undefined ? {} : { details });
}

export function requireGuid(value: string, what: string): string {
  if (!isGuid(value)) invalid(`${what} must be a GUID (8-4-4-4-12 hex), got ${preview(value)}`);
  return value;
}

/** Accepts raw bytes or base64 text (whitespace ignored) and returns the bytes. */
export function bytesFrom(value: string | Uint8Array, what: string): Buffer {
  if (typeof value !== 'string') return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const bytes = decodeBase64Strict(value, true);
  if (bytes === undefined) invalid(`${what} is not valid base64`);
  return bytes;
}

/** Renders a Date as ISO-8601 UTC; validates a string as xs:dateTime and keeps it verbatim. */
export function dateTimeText(value: Date | string, what: string): string {
  if (typeof value !== 'string') {
    if (Number.isNaN(value.getTime())) invalid(`${what} is an invalid Date`);
    return value.toISOString();
  }
  if (!isDateTime(value)) invalid(`${what} must be an xs:dateTime such as 2019-01-15T10:20:30.000Z, got ${preview(value)}`);
  return value;
}
