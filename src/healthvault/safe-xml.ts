// Safe, strict XML reader for every document the codec receives (healthvault-protocol.md §0
// "namespace rule", §2.2, §4.2, §4.5).
//
// Why not just fast-xml-parser's XMLParser: it accepts mismatched end tags, cannot report element
// offsets, and takes ~40 µs on a 1.6 KB notification. We need exact offsets of <header>, <info> and
// <content> so hashes and signatures are checked over the very bytes whose values we then read (a
// string search could be fooled by a decoy inside a comment), and the notification path is hot.
// So this file tokenises the small XML subset HealthVault uses (elements, attributes, text, CDATA,
// comments, the XML declaration) and refuses everything else; fast-xml-parser's XMLValidator runs
// afterwards as an independent second well-formedness check (defence in depth: both must agree).
import { XMLValidator } from 'fast-xml-parser';
import { HvgError } from '../errors.ts';
import { decodeEntities, normalizeAttribute, normalizeText } from './xml-entities.ts';
import { decodeInput, forbidden, malformed, screenText } from './xml-input.ts';
import { elementNameAt, isEndTagNameEnd, qnameAt } from './xml-names.ts';

export interface XmlLimits {
  /** Largest accepted document, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest element nesting (the root is depth 1). HealthVault documents stay under 12. */
  readonly maxDepth: number;
  /** Longest raw attribute value, in characters. */
  readonly maxAttributeLength: number;
  /** Most attributes (namespace declarations included) on one element. */
  readonly maxAttributes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxAttributeLength: 4096,
  maxAttributes: 32,
});

export interface XmlParseOptions extends Partial<XmlLimits> {
  /**
   * Also run fast-xml-parser's XMLValidator over the text (default true): an independent second
   * well-formedness check, so a tokenizer bug cannot silently accept a broken document. It roughly
   * doubles the parse time (~13 µs on a 1.6 KB body); the tokenizer alone is already strict.
   */
  readonly crossCheck?: boolean;
}

export interface XmlElement {
  /** Qualified name as written, e.g. `wc:info`. */
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
  /** Resolved namespace URI; '' when the element is in no namespace. */
  readonly ns: string;
  /** Attributes by qualified name, namespace declarations excluded (null-prototype object). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Child elements in document order (frozen and shared while there are none). */
  readonly children: readonly XmlElement[];
  /** Decoded character data (text and CDATA) directly inside this element. */
  text: string;
  readonly parent: XmlElement | undefined;
  /** The whole decoded document; `source.slice(start, end)` is this element exactly as received. */
  readonly source: string;
  readonly start: number;
  end: number;
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

const ONLY_WHITESPACE = /^[ \t\r\n]*$/;

/**
 * Shared by every element without children until its first one: most elements are leaves or have
 * one child, and an array that is pushed into starts with room for 17 (a 152-byte store each).
 */
const NO_CHILDREN: readonly XmlElement[] = Object.freeze([]);

/** Shared by every element without attributes (most of them): one object less per element. */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

interface Scope {
  readonly parent: Scope | undefined;
  readonly bindings: Map<string, string>;
}
const BASE_SCOPE: Scope = { parent: undefined, bindings: new Map([['xml', XML_NAMESPACE]]) };

/**
 * Parses one document and returns its root element. Accepts raw bytes (must be valid UTF-8; a BOM
 * is dropped) or an already decoded string. Throws only HvgError.
 */
export function parseXml(input: string | Uint8Array, options: XmlParseOptions = {}): XmlElement {
  const lim: XmlLimits = { ...DEFAULT_XML_LIMITS, ...options };
  try {
    const source = decodeInput(input, lim.maxBytes);
    const root = tokenize(source, screenText(source), lim);
    if (options.crossCheck !== false) {
      const verdict = XMLValidator.validate(source);
      if (verdict !== true) malformed(`${verdict.err.msg} (line ${verdict.err.line})`, { validator: verdict.err.code });
    }
    return root;
  } catch (err) {
    if (err instanceof HvgError) throw err;
    // Nothing but HvgError may escape (e.g. a RangeError from a pathological input).
    throw new HvgError('HVG_ERR_XML_MALFORMED', 'malformed XML: the document could not be read', { cause: err });
  }
}

function tokenize(src: string, from: number, lim: XmlLimits): XmlElement {
  const len = src.length;
  const stack: XmlElement[] = [];
  const scopes: Scope[] = [];
  let scope = BASE_SCOPE;
  let root: XmlElement | undefined;
  // element names met so far in this document: a repeated name is compared in place, not sliced anew
  const names: string[] = [];
  let pos = from;
  while (pos < len) {
    const lt = src.indexOf('<', pos);
    const textEnd = lt === -1 ? len : lt;
    if (textEnd > pos) {
      const raw = src.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (!ONLY_WHITESPACE.test(raw)) malformed(`text outside the root element at offset ${pos}`);
      } else {
        if (raw.includes(']]>')) malformed(`"]]>" in character data at offset ${pos}`);
        top.text += normalizeText(decodeEntities(raw));
      }
    }
    if (lt === -1) break;
    const next = src.charCodeAt(lt + 1);
    if (next === 47 /* / */) {
      const top = stack[stack.length - 1];
      // the usual case, the open element's name, is compared in place (no string built)
      const name = top !== undefined && src.startsWith(top.name, lt + 2) && isEndTagNameEnd(src.charCodeAt(lt + 2 + top.name.length)) ? top.name : qnameAt(src, lt + 2);
      if (name === undefined) malformed(`invalid end tag at offset ${lt}`);
      let p = skipSpace(src, lt + 2 + name.length);
      if (src.charCodeAt(p) !== 62 /* > */) malformed(`unterminated end tag </${name}> at offset ${lt}`);
      if (top === undefined) malformed(`end tag </${name}> without a start tag at offset ${lt}`);
      if (top.name !== name) malformed(`expected </${top.name}> but found </${name}> at offset ${lt}`);
      stack.pop();
      top.end = ++p;
      scope = scopes.pop() ?? BASE_SCOPE;
      pos = p;
    } else if (next === 33 /* ! */) {
      pos = skipCommentOrCdata(src, lt, stack[stack.length - 1]);
    } else if (next === 63 /* ? */) {
      forbidden(`processing instruction at offset ${lt}`, { construct: 'PI' }); // screen() already caught it
    } else {
      if (root !== undefined && stack.length === 0) malformed(`content after the root element at offset ${lt}`);
      if (stack.length >= lim.maxDepth) forbidden(`elements nested deeper than ${lim.maxDepth}`, { limit: 'maxDepth' });
      const parent = stack[stack.length - 1];
      const element = readStartTag(src, lt, lim, scope, parent, names);
      if (parent === undefined) root = element;
      else if (parent.children === NO_CHILDREN) (parent as { children: readonly XmlElement[] }).children = [element];
      else (parent.children as XmlElement[]).push(element);
      if (TAG.selfClosing) {
        element.end = TAG.after;
      } else {
        stack.push(element);
        scopes.push(scope);
        scope = TAG.scope;
      }
      pos = TAG.after;
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) malformed(`element <${unclosed.name}> is not closed (document truncated?)`);
  if (root === undefined) malformed('no root element');
  return root;
}

function skipSpace(src: string, p: number): number {
  let c = src.charCodeAt(p);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = src.charCodeAt(++p);
  return p;
}

function skipCommentOrCdata(src: string, lt: number, top: XmlElement | undefined): number {
  if (src.startsWith('<!--', lt)) {
    const close = src.indexOf('-->', lt + 4);
    if (close === -1) malformed(`unterminated comment at offset ${lt}`);
    const body = src.slice(lt + 4, close);
    if (body.includes('--') || body.endsWith('-')) malformed(`"--" inside a comment at offset ${lt}`);
    return close + 3;
  }
  if (src.startsWith('<![CDATA[', lt)) {
    if (top === undefined) malformed(`CDATA outside the root element at offset ${lt}`);
    const close = src.indexOf(']]>', lt + 9);
    if (close === -1) malformed(`unterminated CDATA section at offset ${lt}`);
    top.text += normalizeText(src.slice(lt + 9, close));
    return close + 3;
  }
  return malformed(`unknown markup at offset ${lt}`);
}

/**
 * The rest of what readStartTag reads, besides the element: one module-level record instead of an
 * object per element (the tokenizer runs to completion, nothing re-enters it before it is read).
 */
const TAG: { scope: Scope; selfClosing: boolean; after: number } = { scope: BASE_SCOPE, selfClosing: false, after: 0 };

function readStartTag(src: string, lt: number, lim: XmlLimits, outer: Scope, parent: XmlElement | undefined, names: string[]): XmlElement {
  const name = elementNameAt(src, lt + 1, names);
  if (name === undefined) malformed(`invalid element name at offset ${lt}`);
  let attrs: Record<string, string> | undefined;
  let bindings: Map<string, string> | undefined;
  let count = 0;
  let p = lt + 1 + name.length;
  let selfClosing = false;
  for (;;) {
    const spaced = skipSpace(src, p);
    const c = src.charCodeAt(spaced);
    if (c === 62 /* > */) { p = spaced + 1; break; }
    if (c === 47 /* / */ && src.charCodeAt(spaced + 1) === 62) { p = spaced + 2; selfClosing = true; break; }
    if (spaced === p || Number.isNaN(c)) malformed(`unterminated or invalid start tag <${name}> at offset ${lt}`);
    const attr = qnameAt(src, spaced);
    if (attr === undefined) malformed(`invalid attribute in <${name}> at offset ${spaced}`);
    let q = skipSpace(src, spaced + attr.length);
    if (src.charCodeAt(q) !== 61 /* = */) malformed(`attribute ${attr} of <${name}> has no value`);
    q = skipSpace(src, q + 1);
    const quote = src.charAt(q);
    if (quote !== '"' && quote !== "'") malformed(`attribute ${attr} of <${name}> is not quoted`);
    const close = src.indexOf(quote, q + 1);
    if (close === -1) malformed(`unterminated value of attribute ${attr} in <${name}>`);
    if (close - q - 1 > lim.maxAttributeLength) forbidden(`attribute ${attr} of <${name}> is longer than ${lim.maxAttributeLength} characters`, { limit: 'maxAttributeLength' });
    if (++count > lim.maxAttributes) forbidden(`more than ${lim.maxAttributes} attributes on <${name}>`, { limit: 'maxAttributes' });
    const raw = src.slice(q + 1, close);
    if (raw.includes('<')) malformed(`"<" in the value of attribute ${attr} of <${name}>`);
    const value = decodeEntities(normalizeAttribute(raw));
    if (attr === 'xmlns' || attr.startsWith('xmlns:')) {
      bindings ??= new Map();
      const prefix = attr === 'xmlns' ? '' : attr.slice(6);
      if (bindings.has(prefix)) malformed(`namespace declaration ${attr} repeated on <${name}>`);
      checkBinding(prefix, value, name);
      bindings.set(prefix, value);
    } else {
      attrs ??= Object.create(null) as Record<string, string>;
      if (attr in attrs) malformed(`attribute ${attr} repeated on <${name}>`);
      attrs[attr] = value;
    }
    p = close + 1;
  }
  const scope = bindings === undefined ? outer : { parent: outer, bindings };
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  const ns = lookup(scope, prefix);
  if (ns === undefined) malformed(`namespace prefix "${prefix}" of <${name}> is not declared`);
  if (attrs !== undefined) for (const attr in attrs) {
    const c = attr.indexOf(':');
    if (c !== -1 && lookup(scope, attr.slice(0, c)) === undefined) malformed(`namespace prefix of attribute ${attr} is not declared`);
  }
  const element: XmlElement = {
    name, prefix, local: colon === -1 ? name : name.slice(colon + 1), ns, attrs: attrs ?? NO_ATTRIBUTES, children: NO_CHILDREN, text: '',
    parent, source: src, start: lt, end: -1,
  };
  TAG.scope = scope;
  TAG.selfClosing = selfClosing;
  TAG.after = p;
  return element;
}

function checkBinding(prefix: string, uri: string, element: string): void {
  if (prefix === 'xmlns') malformed(`the xmlns prefix cannot be declared (on <${element}>)`);
  if (prefix === 'xml' ? uri !== XML_NAMESPACE : uri === XML_NAMESPACE) malformed(`the xml prefix and its namespace cannot be rebound (on <${element}>)`);
  if (uri === XMLNS_NAMESPACE) malformed(`the xmlns namespace cannot be bound (on <${element}>)`);
  if (prefix !== '' && uri === '') malformed(`prefix "${prefix}" cannot be bound to the empty namespace in XML 1.0 (on <${element}>)`);
}

function lookup(scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s !== undefined; s = s.parent) {
    const uri = s.bindings.get(prefix);
    if (uri !== undefined) return uri;
  }
  return prefix === '' ? '' : undefined;
}

/** The element exactly as it appears in the received document (§4.2: hash the bytes as sent). */
export function rawXml(element: XmlElement): string {
  return element.source.slice(element.start, element.end);
}
