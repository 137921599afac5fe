// Checks on the raw text before tokenising (healthvault-protocol.md §0: HealthVault documents
// are plain UTF-8 XML without DTDs or processing instructions, §4.1), used by safe-xml.ts.
import { HvgError } from '../errors.ts';
import { preview } from './validation.ts';

const BAD_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const DTD_OR_UNKNOWN_MARKUP = /<!(?!--|\[CDATA\[)/;
const DTD_KEYWORD = /^<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
const XML_DECL = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>/;
const UTF8_NAMES = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function malformed(message: string, details?: Record<string, unknown>): never {
  throw new HvgError('HVG_ERR_XML_MALFORMED', `malformed XML: ${message}`, details ? { details } : {});
}

export function forbidden(message: string, details?: Record<string, unknown>): never {
  throw new HvgError('HVG_ERR_XML_FORBIDDEN', `forbidden XML: ${message}`, details ? { details } : {});
}

/** Bytes or text → text: size bound, strict UTF-8, BOM dropped, only XML 1.0 characters. */
export function decodeInput(input: string | Uint8Array, maxBytes: number): string {
  let text: string;
  if (typeof input === 'string') {
    if (input.length > maxBytes || (input.length * 3 > maxBytes && Buffer.byteLength(input, 'utf8') > maxBytes)) {
      forbidden(`document larger than ${maxBytes} bytes`, { limit: 'maxBytes' });
    }
    if (!input.isWellFormed()) malformed('the text contains unpaired UTF-16 surrogates');
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    if (!(input instanceof Uint8Array)) malformed('input must be a string or bytes');
    if (input.byteLength > maxBytes) forbidden(`document larger than ${maxBytes} bytes`, { limit: 'maxBytes' });
    try {
      text = utf8Decoder.decode(input); // fatal: invalid UTF-8 throws; the BOM is stripped
    } catch (err) {
      throw new HvgError('HVG_ERR_XML_MALFORMED', 'malformed XML: the bytes are not valid UTF-8', { cause: err });
    }
  }
  if (BAD_CHARS.test(text)) malformed('the document contains characters that XML 1.0 does not allow');
  return text;
}

/**
 * Raw-text screening before any tokenising: no DTD of any kind (so no entity can ever be
 * declared, hence none expanded beyond the five predefined ones) and no processing instruction
 * other than a leading XML declaration. Returns where the body starts.
 */
export function screenText(source: string): number {
  const markup = DTD_OR_UNKNOWN_MARKUP.exec(source);
  if (markup !== null) {
    const keyword = DTD_KEYWORD.exec(source.slice(markup.index, markup.index + 40));
    if (keyword !== null) forbidden(`<!${keyword[1]}> declarations are not accepted`, { construct: keyword[1]?.toUpperCase() });
    malformed(`unknown markup "<!" at offset ${markup.index}`);
  }
  let start = 0;
  if (source.startsWith('<?xml') && /[ \t\r\n?]/.test(source.charAt(5))) {
    const decl = XML_DECL.exec(source);
    if (decl === null) malformed('invalid XML declaration');
    const encoding = decl[3];
    if (encoding !== undefined && !UTF8_NAMES.has(encoding.toLowerCase())) malformed(`unsupported encoding ${preview(encoding)}; only UTF-8 is read`);
    start = decl[0].length;
  }
  const pi = source.indexOf('<?', start);
  if (pi !== -1) {
    const target = /^<\?([^\s?]{0,40})/.exec(source.slice(pi, pi + 42))?.[1] ?? '';
    if (target.toLowerCase() === 'xml') malformed('the XML declaration is only allowed at the very start');
    forbidden(`processing instruction <?${target}> is not accepted`, { construct: 'PI' });
  }
  return start;
}
