// Entity and end-of-line handling for safe-xml.ts. Only the five predefined entities and numeric
// character references are ever replaced; a document cannot declare more because DOCTYPE is
// refused before tokenising (healthvault-protocol.md: all HealthVault documents are DTD-free).
import { HvgError } from '../errors.ts';

const REFERENCE = /&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z_][A-Za-z0-9._-]{0,31})?(;?)/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function replaceReference(match: string, ref: string | undefined, semicolon: string): string {
  if (ref === undefined || semicolon === '') {
    throw new HvgError('HVG_ERR_XML_MALFORMED', `malformed XML: bare "&" or unterminated reference near ${JSON.stringify(match.slice(0, 12))} (write &amp;)`);
  }
  if (ref.charCodeAt(0) === 35 /* # */) {
    const cp = ref.charCodeAt(1) === 120 /* x */ ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    if (!isXmlChar(cp)) throw new HvgError('HVG_ERR_XML_MALFORMED', `malformed XML: character reference &${ref}; is not an XML character`);
    return String.fromCodePoint(cp);
  }
  const value = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
  if (value === undefined) {
    throw new HvgError('HVG_ERR_XML_FORBIDDEN', `forbidden XML: entity reference &${ref}; — only &lt; &gt; &amp; &quot; &apos; are expanded`, { details: { construct: 'ENTITY' } });
  }
  return value;
}

/** Replaces the five predefined entities and character references; anything else throws HvgError. */
export function decodeEntities(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  // A sticky scan from each '&' (not String.replace with /g, which V8 runs to the end of the
  // string before the first callback can throw: slow on 300 KB of '&').
  let out = '';
  let last = 0;
  while (amp !== -1) {
    REFERENCE.lastIndex = amp;
    const m = REFERENCE.exec(raw) as RegExpExecArray; // always matches: '&' is there
    out += raw.slice(last, amp) + replaceReference(m[0], m[1], m[2] ?? '');
    last = amp + m[0].length;
    amp = raw.indexOf('&', last);
  }
  return out + raw.slice(last);
}

/** XML end-of-line handling for character data: CRLF and lone CR become LF. */
export function normalizeText(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(/\r\n?/g, '\n');
}

/**
 * Attribute-value normalisation (XML 1.0 §3.3.3): literal tab/CR/LF (CRLF counted once) become a
 * space. Runs on the raw text, before decodeEntities, so &#10; and friends survive as written.
 */
export function normalizeAttribute(raw: string): string {
  return /[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw;
}
