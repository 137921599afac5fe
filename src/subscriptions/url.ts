// Callback URLs compared by meaning, not by spelling (issue 13 point 5): a platform may echo the
// URL we registered normalised — host in lower case, default port dropped, percent-encoding
// normalised — and ownership and drift must not churn over that.
import { trimTrailingSlashes } from '../config/kit.ts';

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The comparison form of a URL: WHATWG serialisation (scheme and host lower-case, default port
 * dropped, dot segments resolved, IDNA), RFC 3986 §6.2.2 percent-encoding normalisation in the
 * path (unreserved characters decoded, other escapes upper-case), trailing slashes of the path
 * dropped, no fragment. undefined for text that is not an absolute URL.
 */
export function comparableUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  const path = u.pathname.replace(/%[0-9a-fA-F]{2}/g, (m) => {
    const c = String.fromCharCode(parseInt(m.slice(1), 16));
    return UNRESERVED.test(c) ? c : m.toUpperCase();
  });
  // the root path stays "/" (https://h and https://h/ are one URL)
  return `${u.protocol}//${u.host}${trimTrailingSlashes(path) || '/'}${u.search}`;
}

/** Same URL by meaning (both must parse). */
export function sameUrl(a: string, b: string): boolean {
  const x = comparableUrl(a);
  return x !== undefined && x === comparableUrl(b);
}
