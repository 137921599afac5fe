// Which key versions a callback URL accepts, per instance (issue 13 point 3). HealthVault retries
// a notification for up to 10 days and may sign a retry with the key that was current when the
// notification was queued, so acceptance follows what each instance has confirmed, not the clock
// of the rotation request:
//   - the current version is always accepted;
//   - an earlier version v (≥ the floor) is accepted until this instance has confirmed a newer
//     version AND the retry horizon has passed since that confirmation;
//   - the floor moves only by an explicit revoke (rotate-key?revokePrevious=true), a deletion
//     (a re-created name starts above every version it had) or an expired horizon.
import type { InstanceObservation, KeyConfirmation, SubscriptionSpec } from './model.ts';

export interface AcceptedKey {
  readonly version: number;
  /** epoch ms after which it is refused; null = until the instance confirms a newer version */
  readonly until: number | null;
}

/** Most versions listed per instance: bounds the work on the data path whatever the history. */
const MAX_VERSIONS = 64;

/** Lowest version the spec itself still allows (records from before keyVersionFloor: see model.ts). */
export const specFloor = (spec: SubscriptionSpec): number => spec.keyVersionFloor ?? spec.previousKeyVersion ?? spec.keyVersion;

/** The versions `instance` may sign with now, newest first. */
export function acceptedKeys(spec: SubscriptionSpec, o: InstanceObservation | undefined, horizonMs: number, now: number): AcceptedKey[] {
  const confirmations = o?.keyConfirmations ?? [];
  const floor = Math.max(specFloor(spec), o?.keyFloor ?? 0, spec.keyVersion - MAX_VERSIONS + 1);
  const out: AcceptedKey[] = [{ version: spec.keyVersion, until: null }];
  let next: KeyConfirmation | undefined; // the oldest confirmation of a version above v
  let i = confirmations.length - 1;
  for (let v = spec.keyVersion - 1; v >= floor; v--) {
    while (i >= 0 && confirmations[i]!.version > v) next = confirmations[i--];
    const until = next === undefined ? null : Date.parse(next.at) + horizonMs;
    if (until !== null && until <= now) break; // older versions are covered by the same or an earlier confirmation
    out.push({ version: v, until });
  }
  return out;
}

/**
 * The confirmation history after a pass: `confirmed` = the instance now holds spec.keyVersion.
 * Entries whose horizon passed are folded into the floor, so the list stays as short as the
 * number of rotations within one horizon.
 */
export function nextConfirmations(spec: SubscriptionSpec, prev: InstanceObservation | undefined, confirmed: boolean, horizonMs: number, now: number): { keyConfirmations: KeyConfirmation[]; keyFloor: number } {
  let list: KeyConfirmation[] = [...(prev?.keyConfirmations ?? (prev?.keyVersion != null ? [{ version: prev.keyVersion, at: new Date(now).toISOString() }] : []))];
  let floor = prev?.keyFloor ?? 0;
  if (confirmed && !list.some((c) => c.version >= spec.keyVersion)) list.push({ version: spec.keyVersion, at: new Date(now).toISOString() });
  list = list.filter((c) => c.version >= specFloor(spec)); // below the floor they decide nothing
  list.sort((a, b) => a.version - b.version);
  const kept: KeyConfirmation[] = [];
  for (const c of list) {
    if (Date.parse(c.at) + horizonMs <= now) floor = Math.max(floor, c.version);
    else kept.push(c);
  }
  return { keyConfirmations: kept, keyFloor: floor };
}
