// Navigation over safe-xml trees with the matching rule of healthvault-protocol.md §0: the root
// is matched by (namespace URI, local name), never by prefix; children (unqualified in every
// HealthVault schema) by local name. Shape errors are HVG_ERR_XML_UNEXPECTED and name the path.
import { HvgError } from '../errors.ts';
import { parseXml } from './safe-xml.ts';
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { isGuid, preview } from './validation.ts';

/** A document (text or bytes) or an element already taken out of a parsed document. */
export type XmlInput = string | Uint8Array | XmlElement;

export function isXmlElement(input: unknown): input is XmlElement {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && 'local' in input && 'children' in input;
}

/** Parses `input` unless it already is an element. */
export function elementOf(input: XmlInput, limits?: XmlParseOptions): XmlElement {
  return isXmlElement(input) ? input : parseXml(input, limits);
}

/** `response/wc:info/subscriptions/subscription[2]/common` — for error messages. */
export function elementPath(element: XmlElement): string {
  const parts: string[] = [];
  for (let el: XmlElement | undefined = element; el !== undefined; el = el.parent) {
    const siblings = el.parent?.children.filter((c) => c.local === el?.local) ?? [];
    parts.push(siblings.length > 1 ? `${el.name}[${siblings.indexOf(el) + 1}]` : el.name);
  }
  return parts.reverse().join('/');
}

export function unexpected(element: XmlElement | undefined, message: string): never {
  const path = element === undefined ? '' : elementPath(element);
  throw new HvgError('HVG_ERR_XML_UNEXPECTED', path === '' ? message : `${path}: ${message}`, { details: { path } });
}

function qualified(ns: string, local: string): string {
  return ns === '' ? local : `{${ns}}${local}`;
}

/** Checks the root's (namespace URI, local name); `namespaces` lists every accepted URI. */
export function expectRoot(root: XmlElement, namespaces: string | readonly string[], local: string): XmlElement {
  const accepted = typeof namespaces === 'string' ? [namespaces] : namespaces;
  if (root.local !== local || !accepted.includes(root.ns)) {
    const wanted = accepted.map((ns) => qualified(ns, local)).join(' or ');
    unexpected(undefined, `expected root element ${wanted}, found ${qualified(root.ns, root.local)}`);
  }
  return root;
}

export function childrenNamed(element: XmlElement, local: string): XmlElement[] {
  return element.children.filter((c) => c.local === local);
}

/** At most one child with this local name. */
export function optionalChild(element: XmlElement, local: string): XmlElement | undefined {
  let found: XmlElement | undefined;
  for (const child of element.children) {
    if (child.local !== local) continue;
    if (found !== undefined) unexpected(element, `<${local}> appears more than once`);
    found = child;
  }
  return found;
}

/** Exactly one child with this local name. */
export function requiredChild(element: XmlElement, local: string): XmlElement {
  return optionalChild(element, local) ?? unexpected(element, `missing <${local}>`);
}

const isXmlSpace = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;

/**
 * The element's text with XML whitespace trimmed at both ends, in linear time: the regex
 * /[ \t\r\n]+$/ retried the whole run from each of its positions, so one long inner run of
 * whitespace cost quadratic time (a 60 KB notification blocked the event loop for seconds).
 */
export function textOf(element: XmlElement): string {
  const t = element.text;
  let start = 0;
  let end = t.length;
  while (start < end && isXmlSpace(t.charCodeAt(start))) start++;
  while (end > start && isXmlSpace(t.charCodeAt(end - 1))) end--;
  return start === 0 && end === t.length ? t : t.slice(start, end);
}

export function requiredText(element: XmlElement, local: string): string {
  const child = requiredChild(element, local);
  const text = textOf(child);
  if (text === '') unexpected(child, 'is empty');
  return text;
}

export function optionalText(element: XmlElement, local: string): string | undefined {
  const child = optionalChild(element, local);
  return child === undefined ? undefined : textOf(child);
}

/** The element's own text, which must be a GUID. */
export function guidValue(element: XmlElement): string {
  const text = textOf(element);
  if (!isGuid(text)) unexpected(element, `expected a GUID, got ${preview(text)}`);
  return text;
}

/** Text of the single child `local`, which must be a GUID. */
export function guidText(element: XmlElement, local: string): string {
  return guidValue(requiredChild(element, local));
}

/** Non-negative decimal integer (status codes, method versions, TTLs). */
export function integerText(element: XmlElement, local: string): number {
  const child = requiredChild(element, local);
  const text = textOf(child);
  if (!/^[0-9]{1,9}$/.test(text)) unexpected(child, `expected a non-negative integer, got ${preview(text)}`);
  return Number(text);
}
