// GetThings v3, the answer (healthvault-protocol.md §4.6.5–4.6.7): `wc:info` in
// urn:com.microsoft.wc.methods.response.GetThings3 holding one `group` per request group, each with
// `thing`s (newest eff-date first, not request order) and then `unprocessed-thing-key-info` for
// matches past the platform's full-thing cap. A requested id without a thing is simply absent
// (§4.6.6). Builder for the simulator, strict reader for the gateway.
import { rawXml } from './safe-xml.ts';
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, guidValue, optionalChild, optionalText, requiredChild, textOf, unexpected } from './xml-query.ts';
import { buildResponse, requiredInfo, successfulResponse } from './response-envelope.ts';
import type { ResponseInput } from './response-envelope.ts';
import { HV_METHODS } from './methods.ts';
import {
  HV_STATUS_ACCESS_DENIED, HV_STATUS_INVALID_APPAUTH, HV_STATUS_INVALID_PERSON, HV_STATUS_INVALID_RECORD,
} from './status-codes.ts';
import { escapeAttr, textElement } from './xml-escape.ts';
import { invalid, isDateTime, isGuid, preview, requireGuid } from './validation.ts';

const GET_THINGS = HV_METHODS.GetThings;

/**
 * 9 INVALID_PERSON, 10 INVALID_RECORD, 11 ACCESS_DENIED, 18 INVALID_APPAUTH: "this (person, record)
 * cannot be read offline" — no retry helps (§4.6.7). Which of 11/18 the platform sends when offline
 * access was never granted is unknown [I]; the simulator sends 11 like the fixture.
 */
export const GETTHINGS_UNREADABLE_STATUSES: ReadonlySet<number> = new Set([
  HV_STATUS_INVALID_PERSON, HV_STATUS_INVALID_RECORD, HV_STATUS_ACCESS_DENIED, HV_STATUS_INVALID_APPAUTH,
]);

/** `unprocessed-thing-key-info`: a match past the full-thing cap, to fetch again (§4.6.5). */
export interface ThingKeyInfo {
  readonly thingId: string;
  readonly versionStamp: string;
  readonly typeId: string;
  readonly typeName?: string;
  readonly effectiveDate?: string;
}

/** A full thing (core + data-xml). GUIDs lower-case in what the parser returns. */
export interface ThingItem extends ThingKeyInfo {
  /** `thing-state` */
  readonly state: string;
  readonly flags: number;
  readonly updatedEndDate?: string;
  /** Parsed: the whole `<data-xml>…</data-xml>` exactly as received. */
  readonly dataXml?: string;
}

export interface GetThingsResultGroup {
  readonly name: string | undefined;
  readonly things: readonly ThingItem[];
  readonly unprocessed: readonly ThingKeyInfo[];
  /** "some things were filtered because of security settings on the record" (§4.6.6) */
  readonly filtered: boolean;
}

/** What the simulator writes for one thing; `data` is the content of `data-xml` (type root + common). */
export interface ThingWrite extends Omit<ThingItem, 'dataXml'> {
  readonly data?: string;
}

export interface GetThingsAnswerGroup {
  readonly name?: string;
  readonly things: readonly ThingWrite[];
  readonly unprocessed?: readonly ThingKeyInfo[];
}

/** Compact answer with the `wc` prefix the .NET readers need (§4.6.5); elements in Thing2 order. */
export function buildGetThingsResponse(groups: readonly GetThingsAnswerGroup[]): string {
  if (groups.length === 0) invalid('a GetThings answer holds at least one group');
  const inner = groups.map((g) => {
    const open = g.name === undefined ? '<group>' : `<group name="${escapeAttr(g.name)}">`;
    const things = g.things.map(thingXml).join('');
    const keys = (g.unprocessed ?? []).map((k) => {
      const eff = k.effectiveDate === undefined ? '' : textElement('eff-date', dateTime(k.effectiveDate, 'effectiveDate'));
      return `<unprocessed-thing-key-info>${keyXml(k)}${eff}</unprocessed-thing-key-info>`;
    }).join('');
    return `${open}${things}${keys}</group>`;
  }).join('');
  return buildResponse({ code: 0, info: { name: GET_THINGS.responseInfo, inner } });
}

function keyXml(k: ThingKeyInfo): string {
  let x = `<thing-id version-stamp="${requireGuid(k.versionStamp, 'versionStamp')}">${requireGuid(k.thingId, 'thingId')}</thing-id>`;
  x += `<type-id${k.typeName === undefined ? '' : ` name="${escapeAttr(k.typeName)}"`}>${requireGuid(k.typeId, 'typeId')}</type-id>`;
  return x;
}

function thingXml(t: ThingWrite): string {
  if (!Number.isSafeInteger(t.flags) || t.flags < 0 || t.flags > 0xffffffff) invalid('flags must be an unsignedInt');
  let x = `<thing>${keyXml(t)}${textElement('thing-state', t.state)}<flags>${t.flags}</flags>`;
  if (t.effectiveDate !== undefined) x += textElement('eff-date', dateTime(t.effectiveDate, 'effectiveDate'));
  // The data is stored XML (checked well-formed where it enters the simulator), written verbatim.
  if (t.data !== undefined) x += `<data-xml>${t.data}</data-xml>`;
  if (t.updatedEndDate !== undefined) x += textElement('updated-end-date', dateTime(t.updatedEndDate, 'updatedEndDate'));
  return `${x}</thing>`;
}

function dateTime(v: string, what: string): string {
  if (!isDateTime(v)) invalid(`${what} must be an xs:dateTime, got ${preview(v)}`);
  return v;
}

/** The groups of a successful answer. Non-zero status → HvgError (statusError; see the set above). */
export function parseGetThingsResponse(input: ResponseInput, limits?: XmlParseOptions): GetThingsResultGroup[] {
  const info = requiredInfo(successfulResponse(input, GET_THINGS.responseInfo, limits), GET_THINGS.responseInfo);
  const groups = childrenNamed(info, 'group');
  // "info holds at least one group" [S]; an answer without one answers nothing we asked.
  if (groups.length === 0) unexpected(info, 'holds no <group>');
  return groups.map((g) => ({
    name: g.attrs.name,
    things: childrenNamed(g, 'thing').map(parseThing),
    unprocessed: childrenNamed(g, 'unprocessed-thing-key-info').map(parseKeyInfo),
    filtered: booleanText(g, 'filtered'),
  }));
}

function parseKeyInfo(el: XmlElement): ThingKeyInfo {
  const idEl = requiredChild(el, 'thing-id');
  const thingId = guidValue(idEl).toLowerCase();
  const stamp = idEl.attrs['version-stamp'];
  // core "always includes the thing ID, version stamp, and type identifier" [S]: required here.
  if (stamp === undefined || !isGuid(stamp)) unexpected(idEl, `version-stamp is missing or not a GUID: ${preview(stamp ?? '')}`);
  const typeEl = requiredChild(el, 'type-id');
  const typeName = typeEl.attrs.name;
  const effectiveDate = optionalDateTime(el, 'eff-date');
  return {
    thingId, versionStamp: stamp.toLowerCase(), typeId: guidValue(typeEl).toLowerCase(),
    ...(typeName === undefined ? {} : { typeName }),
    ...(effectiveDate === undefined ? {} : { effectiveDate }),
  };
}

function parseThing(el: XmlElement): ThingItem {
  const key = parseKeyInfo(el);
  const stateEl = optionalChild(el, 'thing-state');
  const state = stateEl === undefined ? 'Active' : textOf(stateEl);
  // Every Thing2 child is optional in the schema; core carries thing-state, so an absent one is
  // read as the default Active [I].
  if (state !== 'Active' && state !== 'Deleted') unexpected(stateEl, `thing-state must be Active or Deleted, got ${preview(state)}`);
  const flagsText = optionalText(el, 'flags') ?? '0';
  if (!/^[0-9]{1,10}$/.test(flagsText) || Number(flagsText) > 0xffffffff) unexpected(el, `<flags> is not an unsignedInt: ${preview(flagsText)}`);
  // data-xml is 0..n (one per requested `xml`); the gateway asks for exactly one, so the first is
  // the raw one [I]. Ancestors' namespace declarations are not copied into the slice: HealthVault
  // data is unqualified in every sample (§4.6.5), so the slice stands alone.
  const data = childrenNamed(el, 'data-xml')[0];
  const updatedEndDate = optionalDateTime(el, 'updated-end-date');
  return {
    ...key, state, flags: Number(flagsText),
    ...(updatedEndDate === undefined ? {} : { updatedEndDate }),
    ...(data === undefined ? {} : { dataXml: rawXml(data) }),
  };
}

function optionalDateTime(el: XmlElement, local: string): string | undefined {
  const v = optionalText(el, local);
  if (v !== undefined && !isDateTime(v)) unexpected(el, `<${local}> is not an xs:dateTime: ${preview(v)}`);
  return v;
}

function booleanText(el: XmlElement, local: string): boolean {
  const v = optionalText(el, local);
  if (v === undefined) return false;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return unexpected(el, `<${local}> is not a boolean: ${preview(v)}`);
}
