// Platform behaviours a strict, independent HealthVault implementation showed and this simulator
// did not (issue 13): each is a switch, off by default so the simulator keeps its documented
// behaviour, set for every instance in the config file (`quirks`) or per instance through the
// control API (PUT /_sim/instances/{id}/quirks). docs/simulator.md describes them.
import { randomUUID } from 'node:crypto';
import { HvgError } from '../errors.ts';
import { textElement } from '../healthvault/index.ts';

/** Kinds of foreign subscription whose listing entry a strict reader refuses. */
export const ODD_SUBSCRIPTION_KINDS = ['http-url', 'bad-type-id', 'no-filters', 'bad-key-version', 'unknown-channel'] as const;
export type OddSubscriptionKind = (typeof ODD_SUBSCRIPTION_KINDS)[number];

export interface SimQuirks {
  /**
   * Status answered for a session token this instance does not know — one it forgot on restart or
   * failover. 65 (the simulator's default) makes clients renew; the strict implementation answered
   * 8 INVALID_TOKEN [I].
   */
  unknownTokenStatus: 65 | 8;
  /** Store (and therefore echo and call) subscription URLs WHATWG-normalised: host lower-case, default port dropped, unreserved %XX decoded. */
  normaliseUrls: boolean;
  /** Sign every attempt of a batch with the key that was current when it was queued, not the current one. */
  signWithQueuedKey: boolean;
  /** Write this XML encoding declaration at the top of notification bodies (the bytes stay UTF-8); null = none. */
  notificationEncodingDeclaration: string | null;
  /** Hold one foreign subscription (another application's) of each listed odd kind in the listing. */
  oddForeignSubscriptions: OddSubscriptionKind[];
}

export const DEFAULT_QUIRKS: Readonly<SimQuirks> = Object.freeze({
  unknownTokenStatus: 65,
  normaliseUrls: false,
  signWithQueuedKey: false,
  notificationEncodingDeclaration: null,
  oddForeignSubscriptions: [],
});

const CHECKS: Record<keyof SimQuirks, (v: unknown) => boolean> = {
  unknownTokenStatus: (v) => v === 65 || v === 8,
  normaliseUrls: (v) => typeof v === 'boolean',
  signWithQueuedKey: (v) => typeof v === 'boolean',
  notificationEncodingDeclaration: (v) => v === null || (typeof v === 'string' && /^[A-Za-z][A-Za-z0-9._-]{0,39}$/.test(v)),
  oddForeignSubscriptions: (v) => Array.isArray(v) && v.every((k) => (ODD_SUBSCRIPTION_KINDS as readonly unknown[]).includes(k)),
};

/** Problems of a quirks patch (unknown names, bad values), one line each. */
export function quirkProblems(patch: unknown, path: string): string[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return [`${path} must be an object`];
  const out: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const check = CHECKS[key as keyof SimQuirks] as ((v: unknown) => boolean) | undefined;
    if (check === undefined) out.push(`${path}: unknown quirk ${JSON.stringify(key)} (known: ${Object.keys(CHECKS).join(', ')})`);
    else if (!check(value)) out.push(`${path}.${key} has an invalid value ${JSON.stringify(value)}`);
  }
  return out;
}

export function checkQuirks(patch: unknown): asserts patch is Partial<SimQuirks> {
  const problems = quirkProblems(patch, 'quirks');
  if (problems.length > 0) throw new HvgError('HVG_ERR_VALIDATION', problems.join('; '));
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * What a normalising platform stores: WHATWG serialisation (scheme and host lower-case, default
 * port dropped, dot segments resolved) plus RFC 3986 §6.2.2 percent-encoding normalisation
 * (unreserved characters decoded, other escapes upper-case).
 */
export function platformNormalisedUrl(raw: string): string {
  const u = new URL(raw);
  u.pathname = u.pathname.replace(/%[0-9a-fA-F]{2}/g, (m) => {
    const c = String.fromCharCode(parseInt(m.slice(1), 16));
    return UNRESERVED.test(c) ? c : m.toUpperCase();
  });
  return u.href;
}

/** A foreign listing entry of the given kind (raw XML, never produced by the codec's builder). */
export function oddSubscriptionXml(kind: OddSubscriptionKind, id: string = randomUUID()): string {
  const key = Buffer.alloc(64, 7).toString('base64');
  const auth = (version: string) => `<notification-authentication-info><hv-eventing-shared-key><notification-key>${key}</notification-key>${textElement('notification-key-version-id', version)}</hv-eventing-shared-key></notification-authentication-info>`;
  const channel = (url: string) => `<notification-channel><http-notification-channel>${textElement('url', url)}</http-notification-channel></notification-channel>`;
  const filters = (typeId: string) => `<record-item-changed-event><filters><filter><type-ids>${textElement('type-id', typeId)}</type-ids></filter></filters></record-item-changed-event>`;
  const glucose = '879e7c04-4e8a-4707-9ad3-b054df467ce4';
  const common = (inner: string) => `<common>${textElement('id', id)}${inner}</common>`;
  switch (kind) {
    case 'http-url':
      return `<subscription>${common(auth('x1') + channel('http://other-app.example/hv/notify'))}${filters(glucose)}</subscription>`;
    case 'bad-type-id':
      return `<subscription>${common(auth('x1') + channel('https://other-app.example/hv/notify'))}${filters('not-a-guid')}</subscription>`;
    case 'no-filters':
      return `<subscription>${common(auth('x1') + channel('https://other-app.example/hv/notify'))}<record-item-changed-event><filters/></record-item-changed-event></subscription>`;
    case 'bad-key-version':
      return `<subscription>${common(auth('key version 1!') + channel('https://other-app.example/hv/notify'))}${filters(glucose)}</subscription>`;
    case 'unknown-channel':
      return `<subscription>${common(auth('x1') + '<notification-channel><sms-notification-channel><number>+15550100</number></sms-notification-channel></notification-channel>')}${filters(glucose)}</subscription>`;
  }
}
