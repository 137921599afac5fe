// People, records and things of one instance (healthvault-protocol.md §3.1: they live in exactly
// one instance, so the same record id may exist in two instances with different data). Things have
// a type, a version stamp that changes with every update, an effective date and their data XML,
// which GetThings v3 returns (§4.6); a deleted thing is gone. Every create, update and delete feeds
// the change callback — the only event type, "record item changed" (§1.1). Offline access per
// (person, app) decides what GetThings may read (offline-access.ts).
import { randomUUID } from 'node:crypto';
import { HvgError, isHvgError } from '../errors.ts';
import { isDateTime, isGuid, parseXml } from '../healthvault/index.ts';
import { OfflineAccess } from './offline-access.ts';

export type ThingChangeKind = 'created' | 'updated' | 'deleted';

export interface ThingChange {
  readonly personId: string;
  readonly recordId: string;
  readonly thingId: string;
  readonly typeId: string;
  readonly kind: ThingChangeKind;
  readonly at: number;
}

export interface PersonView {
  readonly personId: string;
  readonly recordId: string;
  readonly name: string;
}

export interface PersonInput {
  readonly name?: string | undefined;
  /** Fixed ids (GUIDs, checked by the caller); random when absent. */
  readonly personId?: string | undefined;
  readonly recordId?: string | undefined;
  /** false: no application may read this person's record offline until granted (default true) */
  readonly offlineAccess?: boolean | undefined;
}

/** What a thing holds besides its identity; every field optional on input. */
export interface ThingContent {
  readonly typeName?: string | undefined;
  /** xs:dateTime, usually without a zone like the SDK samples (§4.6.5) */
  readonly effectiveDate?: string | undefined;
  /** content of `data-xml`: the type's root element, then optionally `common` (checked well-formed by the caller) */
  readonly data?: string | undefined;
}

export interface ThingView {
  readonly thingId: string;
  readonly typeId: string;
  readonly typeName: string | undefined;
  readonly recordId: string;
  readonly personId: string;
  readonly version: number;
  readonly versionStamp: string;
  readonly effectiveDate: string;
  readonly data: string;
}

interface StoredRecord {
  readonly recordId: string;
  readonly personId: string;
  readonly things: Set<string>;
}

interface StoredThing {
  readonly thingId: string;
  typeId: string;
  typeName: string | undefined;
  readonly recordId: string;
  version: number;
  versionStamp: string;
  effectiveDate: string;
  data: string | undefined;
}

/**
 * Checks thing content from the control API before it is stored: the data is written verbatim
 * into GetThings answers, so it must be well-formed XML content with a root element (§4.6.5).
 */
export function checkThingContent(c: ThingContent & { typeId?: string | undefined; thingId?: string | undefined }): void {
  const bad = (m: string): never => {
    throw new HvgError('HVG_ERR_VALIDATION', m);
  };
  if (c.typeId !== undefined && !isGuid(c.typeId)) bad(`typeId must be a GUID, got ${JSON.stringify(c.typeId.slice(0, 60))}`);
  if (c.thingId !== undefined && !isGuid(c.thingId)) bad(`thingId must be a GUID, got ${JSON.stringify(c.thingId.slice(0, 60))}`);
  if (c.effectiveDate !== undefined && !isDateTime(c.effectiveDate)) bad('effectiveDate must be an xs:dateTime such as 2019-01-15T07:55:00');
  if (c.typeName !== undefined && (c.typeName.trim() === '' || c.typeName.length > 255)) bad('typeName must be 1..255 characters');
  if (c.data === undefined) return;
  try {
    const root = parseXml(`<data-xml>${c.data}</data-xml>`, { maxBytes: 256 * 1024 });
    if (root.children.length === 0 || root.children[0]?.local === 'common') bad('data must start with the type\'s root element (then optionally <common>)');
  } catch (err) {
    if (isHvgError(err) && err.code === 'HVG_ERR_VALIDATION') throw err;
    bad(`data is not well-formed XML content: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function notFound(what: string, id: string): never {
  throw new HvgError('HVG_ERR_NOT_FOUND', `${what} ${id} does not exist in this instance`);
}

/** Names of the types the fixtures and demos use; other types have no name unless one is given [I]. */
const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['879e7c04-4e8a-4707-9ad3-b054df467ce4', 'Blood glucose'],
  ['3d34d87e-7fc1-4153-800f-f56592cb0d17', 'Weight'],
  ['ca3c57f4-f4c1-4e15-be67-0a3caf5414ed', 'Blood pressure'],
]);

/** Effective date of a thing created without one: now, UTC, written without a zone like the samples [I]. */
function nowDateTime(): string {
  return new Date().toISOString().slice(0, 19);
}

export class RecordStore {
  readonly #people = new Map<string, PersonView>();
  readonly #records = new Map<string, StoredRecord>();
  readonly #things = new Map<string, StoredThing>();
  readonly #onChange: (change: ThingChange) => void;
  readonly offline = new OfflineAccess();

  constructor(onChange: (change: ThingChange) => void) {
    this.#onChange = onChange;
  }

  /** A person with one self record. Offline access: offline-access.ts. */
  createPerson(input: PersonInput = {}): PersonView {
    const personId = (input.personId ?? randomUUID()).toLowerCase();
    const recordId = (input.recordId ?? randomUUID()).toLowerCase();
    if (this.#people.has(personId)) throw new HvgError('HVG_ERR_VALIDATION', `person ${personId} already exists in this instance`);
    if (this.#records.has(recordId)) throw new HvgError('HVG_ERR_VALIDATION', `record ${recordId} already exists in this instance`);
    const person: PersonView = { personId, recordId, name: input.name ?? `Person ${this.#people.size + 1}` };
    this.#people.set(personId, person);
    this.#records.set(recordId, { recordId, personId, things: new Set() });
    this.offline.addPerson(personId, input.offlineAccess ?? true);
    return person;
  }

  people(): PersonView[] {
    return [...this.#people.values()];
  }

  person(personId: string): PersonView | undefined {
    return this.#people.get(personId.toLowerCase());
  }

  /** The record's owner, or undefined when the record does not exist here. */
  recordOwner(recordId: string): string | undefined {
    return this.#records.get(recordId.toLowerCase())?.personId;
  }

  addThing(recordId: string, typeId: string, content: ThingContent & { thingId?: string | undefined } = {}): ThingView {
    const record = this.#records.get(recordId.toLowerCase()) ?? notFound('record', recordId);
    const thingId = (content.thingId ?? randomUUID()).toLowerCase();
    if (this.#things.has(thingId)) throw new HvgError('HVG_ERR_VALIDATION', `thing ${thingId} already exists in this instance`);
    const thing: StoredThing = {
      thingId, typeId: typeId.toLowerCase(), typeName: content.typeName ?? TYPE_NAMES.get(typeId.toLowerCase()), recordId: record.recordId,
      version: 1, versionStamp: randomUUID(), effectiveDate: content.effectiveDate ?? nowDateTime(), data: content.data,
    };
    this.#things.set(thing.thingId, thing);
    record.things.add(thing.thingId);
    this.#emit(record, thing, 'created');
    return this.#view(record, thing);
  }

  /** A new version: new version stamp; the type may change too (a new version of the type, §1.1). */
  updateThing(thingId: string, patch: ThingContent & { typeId?: string | undefined } = {}): ThingView {
    const thing = this.#things.get(thingId.toLowerCase()) ?? notFound('thing', thingId);
    const record = this.#records.get(thing.recordId) ?? notFound('record', thing.recordId);
    if (patch.typeId !== undefined) {
      thing.typeId = patch.typeId.toLowerCase();
      thing.typeName = patch.typeName ?? TYPE_NAMES.get(thing.typeId);
    } else if (patch.typeName !== undefined) thing.typeName = patch.typeName;
    if (patch.effectiveDate !== undefined) thing.effectiveDate = patch.effectiveDate;
    if (patch.data !== undefined) thing.data = patch.data;
    thing.version += 1;
    thing.versionStamp = randomUUID();
    this.#emit(record, thing, 'updated');
    return this.#view(record, thing);
  }

  deleteThing(thingId: string): ThingView {
    const thing = this.#things.get(thingId.toLowerCase()) ?? notFound('thing', thingId);
    const record = this.#records.get(thing.recordId) ?? notFound('record', thing.recordId);
    this.#things.delete(thing.thingId);
    record.things.delete(thing.thingId);
    this.#emit(record, thing, 'deleted');
    return this.#view(record, thing);
  }

  getThing(thingId: string): ThingView | undefined {
    const thing = this.#things.get(thingId.toLowerCase());
    const record = thing === undefined ? undefined : this.#records.get(thing.recordId);
    return thing === undefined || record === undefined ? undefined : this.#view(record, thing);
  }

  /** A thing of this record (a thing id of another record is as absent as an unknown one). */
  thingInRecord(recordId: string, thingId: string): ThingView | undefined {
    const view = this.getThing(thingId);
    return view?.recordId === recordId.toLowerCase() ? view : undefined;
  }

  get counts(): { people: number; records: number; things: number } {
    return { people: this.#people.size, records: this.#records.size, things: this.#things.size };
  }

  #view(record: StoredRecord, thing: StoredThing): ThingView {
    return {
      thingId: thing.thingId, typeId: thing.typeId, typeName: thing.typeName, recordId: record.recordId, personId: record.personId,
      version: thing.version, versionStamp: thing.versionStamp, effectiveDate: thing.effectiveDate,
      // [I] a thing created without data gets a stand-in root element, so data-xml is never empty
      data: thing.data ?? `<simulated-thing><version>${thing.version}</version></simulated-thing><common/>`,
    };
  }

  #emit(record: StoredRecord, thing: StoredThing, kind: ThingChangeKind): void {
    this.#onChange({ personId: record.personId, recordId: record.recordId, thingId: thing.thingId, typeId: thing.typeId, kind, at: Date.now() });
  }
}
