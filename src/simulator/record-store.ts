// People, records and things of one instance (healthvault-protocol.md §3.1: they live in exactly
// one instance). Only what notifications need is modelled: ids, the thing's type, and a change
// callback for create, update and delete — the only event type, "record item changed" (§1.1).
import { randomUUID } from 'node:crypto';
import { HvgError } from '../errors.ts';

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

export interface ThingView {
  readonly thingId: string;
  readonly typeId: string;
  readonly recordId: string;
  readonly personId: string;
  readonly version: number;
}

interface StoredRecord {
  readonly recordId: string;
  readonly personId: string;
  readonly things: Set<string>;
}

interface StoredThing {
  readonly thingId: string;
  typeId: string;
  readonly recordId: string;
  version: number;
}

function notFound(what: string, id: string): never {
  throw new HvgError('HVG_ERR_NOT_FOUND', `${what} ${id} does not exist in this instance`);
}

export class RecordStore {
  readonly #people = new Map<string, PersonView>();
  readonly #records = new Map<string, StoredRecord>();
  readonly #things = new Map<string, StoredThing>();
  readonly #onChange: (change: ThingChange) => void;

  constructor(onChange: (change: ThingChange) => void) {
    this.#onChange = onChange;
  }

  /**
   * A person with one self record. Every application is treated as authorised for every record
   * (offline access included) [I]: app authorisation is not simulated (§1.1).
   */
  createPerson(name?: string): PersonView {
    const personId = randomUUID();
    const recordId = randomUUID();
    const person: PersonView = { personId, recordId, name: name ?? `Person ${this.#people.size + 1}` };
    this.#people.set(personId, person);
    this.#records.set(recordId, { recordId, personId, things: new Set() });
    return person;
  }

  people(): PersonView[] {
    return [...this.#people.values()];
  }

  addThing(recordId: string, typeId: string): ThingView {
    const record = this.#records.get(recordId.toLowerCase()) ?? notFound('record', recordId);
    const thing: StoredThing = { thingId: randomUUID(), typeId, recordId: record.recordId, version: 1 };
    this.#things.set(thing.thingId, thing);
    record.things.add(thing.thingId);
    this.#emit(record, thing, 'created');
    return this.#view(record, thing);
  }

  /** An update may also change the type id (a new version of the type, §1.1). */
  updateThing(thingId: string, typeId?: string): ThingView {
    const thing = this.#things.get(thingId.toLowerCase()) ?? notFound('thing', thingId);
    const record = this.#records.get(thing.recordId) ?? notFound('record', thing.recordId);
    if (typeId !== undefined) thing.typeId = typeId;
    thing.version += 1;
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

  get counts(): { people: number; records: number; things: number } {
    return { people: this.#people.size, records: this.#records.size, things: this.#things.size };
  }

  #view(record: StoredRecord, thing: StoredThing): ThingView {
    return { thingId: thing.thingId, typeId: thing.typeId, recordId: record.recordId, personId: record.personId, version: thing.version };
  }

  #emit(record: StoredRecord, thing: StoredThing, kind: ThingChangeKind): void {
    this.#onChange({ personId: record.personId, recordId: record.recordId, thingId: thing.thingId, typeId: thing.typeId, kind, at: Date.now() });
  }
}
