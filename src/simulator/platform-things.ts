// GetThings v3 over the instance's record store, with offline access (healthvault-protocol.md
// §4.6): the header names the record and, in auth-session/offline-person-info, the person the app
// acts for; the platform checks the person's offline authorisation of the app at every read.
// Requested ids without a readable thing are left out silently (§4.6.6); answer groups follow the
// request groups, things newest eff-date first (§4.6.5).
import { buildGetThingsResponse, parseGetThingsInfo } from '../healthvault/index.ts';
import type { GetThingsAnswerGroup, GetThingsRequestGroup, ThingKeyInfo, ThingWrite } from '../healthvault/index.ts';
import { fail, parseOr, S } from './platform-context.ts';
import type { MethodHandler, PlatformContext } from './platform-context.ts';
import type { OfflineGrant } from './offline-access.ts';
import type { ThingView } from './record-store.ts';

/** [I] groups per request (maxGetThingsQueryGroups is unpublished, §4.6.4); beyond → 53. */
const MAX_GROUPS = 50;

export const handleGetThings: MethodHandler = (ctx, request, { app }) => {
  const groups = parseOr(S.INVALID_XML, () => parseGetThingsInfo(request.info));
  if (groups.length > MAX_GROUPS) fail(S.TOO_MANY_GROUPS, `at most ${MAX_GROUPS} groups per GetThings request`);
  for (const g of groups) checkGroup(ctx, g);
  // [I] No offline person: an app-only session reads no person's data (online user tokens are not
  // simulated), answered as insufficient rights.
  const personId = request.offlinePersonId;
  if (personId === undefined) fail(S.ACCESS_DENIED, 'GetThings needs auth-session/offline-person-info/offline-person-id (online user sessions are not simulated)');
  // [I] 9 for an unknown person, 10 for an unknown record (meanings in the status table, §4.6.7).
  if (ctx.records.person(personId) === undefined) fail(S.INVALID_PERSON, `person ${personId} does not exist or is not active in instance ${ctx.instanceId}`);
  const recordId = request.recordId;
  if (recordId === undefined) fail(S.INVALID_RECORD, 'GetThings needs header/record-id ("only one record can be specified in each call")');
  const owner = ctx.records.recordOwner(recordId);
  if (owner === undefined) fail(S.INVALID_RECORD, `record ${recordId} does not exist in instance ${ctx.instanceId}`);
  // [I] 11 both for a record the person has no access to and for a person who has not granted
  // (or has revoked) this app's offline access: the fixture's code (§4.6.7, §7.17).
  if (owner !== personId.toLowerCase()) fail(S.ACCESS_DENIED, `person ${personId} has no access to record ${recordId}`);
  const grant = ctx.records.offline.grantOf(personId, app.appId);
  if (grant === undefined) fail(S.ACCESS_DENIED, `person ${personId} has not authorized application ${app.appId} for offline access to record ${recordId}`);
  return buildGetThingsResponse(groups.map((g) => answerGroup(ctx, g, recordId, grant)));
};

function checkGroup(ctx: PlatformContext, g: GetThingsRequestGroup): void {
  // [I] Only lookups by id or key are simulated (what the gateway and the SDKs' changed-item
  // fetch send); filters and client ids are refused rather than ignored.
  if (g.filterCount > 0 || g.clientThingIds.length > 0) fail(S.INVALID_FILTER, 'the simulator answers GetThings groups of <id> or <key> only (no filters, no client-thing-id)');
  if (g.ids.length === 0 && g.keys.length === 0) fail(S.INVALID_FILTER, 'a GetThings group needs at least one <id> or <key> here');
  if (g.ids.length + g.keys.length > ctx.config.getThingsMaxIds) {
    fail(S.TOO_MANY_THINGS_SPECIFIED, `at most ${ctx.config.getThingsMaxIds} things may be specified in one group`);
  }
  // "the .NET SDKs refuse a view with neither sections nor transforms" (§4.6.3) [I: same status here]
  if (g.sections.length === 0 && g.xml.length === 0) fail(S.INVALID_FORMAT, 'format needs at least one section or xml');
  if (g.xml.some((x) => x !== '')) fail(S.INVALID_FORMAT, 'xml transforms are not simulated; send an empty <xml/> for the raw data-xml');
}

function answerGroup(ctx: PlatformContext, g: GetThingsRequestGroup, recordId: string, grant: OfflineGrant): GetThingsAnswerGroup {
  const wanted = g.ids.length > 0 ? g.ids.map((id) => ({ id, stamp: undefined })) : g.keys.map((k) => ({ id: k.thingId, stamp: k.versionStamp }));
  const seen = new Set<string>();
  const found: ThingView[] = [];
  for (const w of wanted) {
    const thing = ctx.records.thingInRecord(recordId, w.id);
    if (thing === undefined || seen.has(thing.thingId)) continue;
    // A type the app may not read offline is as absent as a deleted thing (§4.6.6).
    if (grant.typeIds !== undefined && !grant.typeIds.has(thing.typeId)) continue;
    // [I] Only current versions are kept: a key naming an older version finds nothing, and
    // current-version-only=false returns the current version alone.
    if (w.stamp !== undefined && w.stamp.toLowerCase() !== thing.versionStamp) continue;
    seen.add(thing.thingId);
    found.push(thing);
  }
  // Newest effective date first (§4.6.5); ties keep the request order.
  found.sort((a, b) => (a.effectiveDate < b.effectiveDate ? 1 : a.effectiveDate > b.effectiveDate ? -1 : 0));
  const limit = Math.min(ctx.config.getThingsMaxFullThings, g.maxFull ?? Infinity, g.max ?? Infinity);
  const full = found.slice(0, limit);
  // Past the full-thing cap only keys come back (§4.6.4); past `max` nothing [S: max = items returned].
  const rest = g.max === undefined ? found.slice(limit) : found.slice(limit, g.max);
  // [I] The core part (state, flags, eff-date) is written whatever the sections say: without
  // `core` the platform would send less, which no client of the simulator asks for.
  const withData = g.xml.includes('');
  return {
    ...(g.name === undefined ? {} : { name: g.name }),
    things: full.map((t): ThingWrite => ({
      ...key(t), state: 'Active', flags: 0,
      ...(withData ? { data: t.data } : {}),
    })),
    unprocessed: rest.map(key),
  };
}

function key(t: ThingView): ThingKeyInfo {
  return {
    thingId: t.thingId, versionStamp: t.versionStamp, typeId: t.typeId, effectiveDate: t.effectiveDate,
    ...(t.typeName === undefined ? {} : { typeName: t.typeName }),
  };
}
