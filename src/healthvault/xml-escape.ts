// Escaping for the documents we write. Builders emit compact XML exactly like the SDK writers
// (no declaration unless asked, no indentation; healthvault-protocol.md §4.1), so escaping is the
// only transformation applied to values.

const TEXT_SPECIAL = /[&<>]/;
const ATTR_SPECIAL = /[&<>"\t\n\r]/;

/** Escapes character data (element content). `>` is escaped too so `]]>` can never appear. */
export function escapeText(value: string): string {
  if (!TEXT_SPECIAL.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes a double-quoted attribute value; tab/CR/LF as character references survive normalisation. */
export function escapeAttr(value: string): string {
  if (!ATTR_SPECIAL.test(value)) return value;
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** `<name>escaped text</name>` */
export function textElement(name: string, value: string): string {
  return `<${name}>${escapeText(value)}</${name}>`;
}
