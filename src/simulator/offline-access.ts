// Which application may read a person's record offline, and which thing types (healthvault-
// protocol.md §4.6.1: the person authorises the app for offline access to the record and the
// types; ACC keeps offline rules apart from online ones; the platform checks at every read).
// A person starts with every application granted for every type (the simulator's behaviour before
// GetThings: "every app is authorised" [I]) unless created with offlineAccess false; grants and
// revocations per (person, app) override that.

export interface OfflineGrant {
  /** lower-case type ids the app may read offline; undefined = every type */
  readonly typeIds: ReadonlySet<string> | undefined;
}

export interface OfflineAccessView {
  readonly personId: string;
  /** what an application without its own entry gets */
  readonly byDefault: boolean;
  /** per application: its grant (typeIds null = every type) or null when revoked */
  readonly applications: Record<string, { typeIds: string[] | null } | null>;
}

interface PersonAccess {
  byDefault: boolean;
  readonly apps: Map<string, OfflineGrant | null>;
}

const EVERY_TYPE: OfflineGrant = Object.freeze({ typeIds: undefined });

export class OfflineAccess {
  readonly #people = new Map<string, PersonAccess>();

  addPerson(personId: string, byDefault: boolean): void {
    this.#people.set(personId.toLowerCase(), { byDefault, apps: new Map() });
  }

  /** The app's grant for this person, or undefined when it may not read offline (→ 11). */
  grantOf(personId: string, appId: string): OfflineGrant | undefined {
    const p = this.#people.get(personId.toLowerCase());
    if (p === undefined) return undefined;
    const own = p.apps.get(appId.toLowerCase());
    if (own !== undefined) return own ?? undefined;
    return p.byDefault ? EVERY_TYPE : undefined;
  }

  /** Grants (or replaces the grant of) one app; typeIds undefined = every type. False when the person is unknown. */
  grant(personId: string, appId: string, typeIds?: readonly string[]): boolean {
    const p = this.#people.get(personId.toLowerCase());
    if (p === undefined) return false;
    p.apps.set(appId.toLowerCase(), typeIds === undefined ? EVERY_TYPE : { typeIds: new Set(typeIds.map((t) => t.toLowerCase())) });
    return true;
  }

  /** The person removes the app's authorisation (python: "the user removed the application's authorization", §4.6.7). */
  revoke(personId: string, appId: string): boolean {
    const p = this.#people.get(personId.toLowerCase());
    if (p === undefined) return false;
    p.apps.set(appId.toLowerCase(), null);
    return true;
  }

  view(personId: string): OfflineAccessView | undefined {
    const p = this.#people.get(personId.toLowerCase());
    if (p === undefined) return undefined;
    const applications: OfflineAccessView['applications'] = {};
    for (const [app, g] of p.apps) applications[app] = g === null ? null : { typeIds: g.typeIds === undefined ? null : [...g.typeIds] };
    return { personId: personId.toLowerCase(), byDefault: p.byDefault, applications };
  }
}
