// GetThings v3, the request side (healthvault-protocol.md §4.6.2–4.6.4): the `<info>` the gateway
// sends to read the things a notification names, and its reader for the simulator. The header part
// (record-id + auth-session/offline-person-info) is request-envelope.ts's recordId/offlinePersonId.
// The answer is things-response.ts.
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, elementOf, expectRoot, guidValue, optionalChild, requiredChild, textOf, unexpected } from './xml-query.ts';
import type { XmlInput } from './xml-query.ts';
import { HV_METHODS, requestInfoNamespaces } from './methods.ts';
import { escapeAttr, textElement } from './xml-escape.ts';
import { invalid, isGuid, preview, requireGuid } from './validation.ts';

const GET_THINGS = HV_METHODS.GetThings;

/** The gateway's one named group (fixture getthings3-request.xml; the name is echoed back, §4.6.3). */
export const GETTHINGS_GROUP_NAME = 'changed-things';

/**
 * Most full things the platform returned in one group in the SDK samples (§4.6.4): 240. The real
 * value is platform configuration (maxFullThingResultsPerGroup) nobody published [I]; no limit on
 * ids per group is stated at all, so the codec refuses more ids than this cap and callers batch
 * well under it.
 */
export const GETTHINGS_MAX_IDS_PER_GROUP = 240;

/** `format/section` values (ThingFormatSpec2, §4.6.3). */
export const THING_SECTIONS = ['core', 'audits', 'effectivepermissions', 'digitalsignatures', 'tags', 'blobpayload'] as const;

export interface GetThingsRequestSpec {
  /** thing GUIDs (`id`), 1..GETTHINGS_MAX_IDS_PER_GROUP, no duplicates */
  readonly thingIds: readonly string[];
  readonly groupName?: string;
  /** `type-version-format` GUIDs: the type versions to map the things to (§4.6.3) */
  readonly typeVersionFormats?: readonly string[];
}

/**
 * `<info><group name="changed-things"><id>…</id>…<format><section>core</section><xml/>…</format>
 * <current-version-only>true</current-version-only></group></info>`: one group, ids only (no
 * filters, so the AND/OR question of §7.20 does not arise), `core` + raw `data-xml`, current
 * versions, no max/max-full [I: the gateway's choice, §4.6.3]. XSD sequence order throughout.
 */
export function buildGetThingsInfo(spec: GetThingsRequestSpec): string {
  const ids = spec.thingIds;
  if (ids.length === 0) invalid('GetThings needs at least one thing id');
  if (ids.length > GETTHINGS_MAX_IDS_PER_GROUP) invalid(`GetThings takes at most ${GETTHINGS_MAX_IDS_PER_GROUP} ids per group (§4.6.4); got ${ids.length}: batch them`);
  const seen = new Set<string>();
  let group = '';
  for (const id of ids) {
    const key = requireGuid(id, 'thingId').toLowerCase();
    if (seen.has(key)) invalid(`thing id ${id} is listed twice`);
    seen.add(key);
    group += textElement('id', id);
  }
  let format = '<format><section>core</section><xml/>';
  for (const t of spec.typeVersionFormats ?? []) format += textElement('type-version-format', requireGuid(t, 'typeVersionFormat'));
  format += '</format>';
  const name = spec.groupName ?? GETTHINGS_GROUP_NAME;
  if (name === '' || name.length > 255) invalid('groupName must be 1..255 characters');
  return `<info><group name="${escapeAttr(name)}">${group}${format}<current-version-only>true</current-version-only></group></info>`;
}

/** One request group as the simulator reads it. GUIDs as sent. */
export interface GetThingsRequestGroup {
  readonly name: string | undefined;
  readonly max: number | undefined;
  readonly maxFull: number | undefined;
  readonly ids: readonly string[];
  /** `key` entries: a specific version of a thing */
  readonly keys: readonly { readonly thingId: string; readonly versionStamp: string }[];
  readonly clientThingIds: readonly string[];
  /** how many `filter` elements the group has (the simulator answers only id/key groups) */
  readonly filterCount: number;
  readonly sections: readonly string[];
  /** `xml` elements: '' = raw data-xml; other text names a transform */
  readonly xml: readonly string[];
  readonly typeVersionFormats: readonly string[];
  /** default true (§4.6.3) */
  readonly currentVersionOnly: boolean;
}

const GROUP_ORDER = ['id', 'key', 'client-thing-id', 'filter', 'format', 'current-version-only', 'intents', 'order-by'];

/** Simulator side: the groups of a GetThings v3 info, with the XSD's structural rules enforced. */
export function parseGetThingsInfo(input: XmlInput, limits?: XmlParseOptions): GetThingsRequestGroup[] {
  const info = expectRoot(elementOf(input, limits), requestInfoNamespaces(GET_THINGS.name), 'info');
  const groups = childrenNamed(info, 'group');
  if (groups.length === 0) unexpected(info, 'needs at least one <group>');
  return groups.map(parseGroup);
}

function parseGroup(group: XmlElement): GetThingsRequestGroup {
  // XSD sequence: a child out of order is refused, as a validating platform would (§7.16).
  let last = 0;
  for (const child of group.children) {
    const at = GROUP_ORDER.indexOf(child.local);
    if (at < 0) unexpected(group, `unexpected <${child.local}>`);
    // id, key and client-thing-id are branches of one choice (§4.6.3)
    const rank = at <= 2 ? 0 : at;
    if (rank < last) unexpected(group, `<${child.local}> is out of the schema order`);
    last = rank;
  }
  const ids = childrenNamed(group, 'id').map(guidValue);
  const keys = childrenNamed(group, 'key').map((k) => ({ thingId: guidValue(k), versionStamp: guidAttr(k, 'version-stamp') }));
  const clientThingIds = childrenNamed(group, 'client-thing-id').map(textOf);
  if ([ids.length, keys.length, clientThingIds.length].filter((n) => n > 0).length > 1) {
    unexpected(group, 'mixes <id>, <key> and <client-thing-id> (one choice, §4.6.3)');
  }
  const format = requiredChild(group, 'format');
  for (const child of format.children) {
    if (!['section', 'xml', 'type-version-format', 'blob-payload-request'].includes(child.local)) unexpected(format, `unexpected <${child.local}>`);
  }
  const sections = childrenNamed(format, 'section').map((s) => {
    const v = textOf(s);
    if (!(THING_SECTIONS as readonly string[]).includes(v)) unexpected(s, `unknown section ${preview(v)}`);
    return v;
  });
  const cvo = optionalChild(group, 'current-version-only');
  const cvoText = cvo === undefined ? 'true' : textOf(cvo);
  if (cvoText !== 'true' && cvoText !== 'false' && cvoText !== '1' && cvoText !== '0') unexpected(cvo, `expected a boolean, got ${preview(cvoText)}`);
  return {
    name: group.attrs.name,
    max: countAttr(group, 'max'),
    maxFull: countAttr(group, 'max-full'),
    ids, keys, clientThingIds,
    filterCount: childrenNamed(group, 'filter').length,
    sections,
    xml: childrenNamed(format, 'xml').map(textOf),
    typeVersionFormats: childrenNamed(format, 'type-version-format').map(guidValue),
    currentVersionOnly: cvoText === 'true' || cvoText === '1',
  };
}

function guidAttr(el: XmlElement, name: string): string {
  const v = el.attrs[name];
  if (v === undefined) unexpected(el, `missing ${name} attribute`);
  if (!isGuid(v)) unexpected(el, `${name} is not a GUID: ${preview(v)}`);
  return v;
}

function countAttr(el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v)) unexpected(el, `${name} must be a non-negative integer, got ${preview(v)}`);
  return Number(v);
}
