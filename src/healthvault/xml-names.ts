// XML names for safe-xml.ts: the QName grammar, and reading an element name without building a
// new string when the document already named an element so (the hot path meets each name of a
// notification — thing, thing-id… — many times).

const START = 'A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NCNAME = `[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*`;
/** QName = NCName (':' NCName)? — supplementary-plane name characters are not supported [I]. */
const QNAME = new RegExp(`${NCNAME}(?::${NCNAME})?`, 'y');

/** The QName starting at `at`, or undefined. test() + slice: no match array per name (the hot path reads ~30 names per notification). */
export function qnameAt(src: string, at: number): string | undefined {
  QNAME.lastIndex = at;
  return QNAME.test(src) ? src.slice(at, QNAME.lastIndex) : undefined;
}

/** whitespace or ">": what may follow the name in an end tag */
export function isEndTagNameEnd(c: number): boolean {
  return c === 62 || c === 32 || c === 9 || c === 10 || c === 13;
}

/** whitespace, ">" or "/": what may follow the name in a start tag */
function isStartTagNameEnd(c: number): boolean {
  return c === 47 || isEndTagNameEnd(c);
}

const MAX_REMEMBERED_NAMES = 16;

/** The element name at `at`: one already met in this document if it is that one (no allocation), else read and remembered. */
export function elementNameAt(src: string, at: number, names: string[]): string | undefined {
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    // a QName followed by a character that cannot continue a name is exactly what qnameAt would read
    if (src.startsWith(n, at) && isStartTagNameEnd(src.charCodeAt(at + n.length))) return n;
  }
  const name = qnameAt(src, at);
  if (name !== undefined && names.length < MAX_REMEMBERED_NAMES) names.push(name);
  return name;
}

