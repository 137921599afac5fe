// The diff between what we want in one instance and what it has: a pure function, so the dry
// run, the reconciler and the tests all use the same plan.
//
// Ownership: a subscription is ours when its URL starts with the gateway's notification root
// ({publicBaseUrl}/notifications/). Ours are created, updated and deleted to converge; every
// other subscription of the application is foreign: reported, never touched. URLs are compared
// by meaning (url.ts): a platform that echoes them normalised causes no churn.
// An entry the instance listed but we could not read is foreign (reported with why) unless its
// URL is ours: then it is drift like any other and is deleted (and re-created) when it has an id.
import { trimTrailingSlashes } from '../config/kit.ts';
import { isGuid } from '../healthvault/index.ts';
import { keyVersionId } from './keys.ts';
import { specsFor, type SubscriptionSpec } from './model.ts';
import type { ActualSubscription } from './platform.ts';
import { comparableUrl } from './url.ts';

export type PlanAction =
  | { readonly kind: 'create'; readonly name: string; readonly url: string; readonly typeIds: readonly string[]; readonly keyVersion: number }
  | {
      readonly kind: 'update';
      readonly name: string;
      readonly id: string;
      readonly url: string;
      readonly typeIds: readonly string[];
      readonly keyVersion: number;
      /** what differs: 'type-ids', 'key-version' */
      readonly changes: readonly string[];
    }
  | { readonly kind: 'delete'; readonly id: string; readonly url: string; readonly name: string | null; readonly reason: 'duplicate' | 'not-desired' | 'unreadable' };

export interface InstancePlan {
  readonly instanceId: string;
  readonly actions: readonly PlanAction[];
  /** desired name → id of the subscription that already matches */
  readonly inSync: Readonly<Record<string, string>>;
  /** desired name → ids of every readable subscription of ours at its callback URL (the kept one and duplicates) */
  readonly known: Readonly<Record<string, readonly string[]>>;
  readonly foreign: readonly ActualSubscription[];
}

export const notificationRoot = (publicBaseUrl: string): string => `${trimTrailingSlashes(publicBaseUrl)}/notifications/`;

export const callbackUrl = (publicBaseUrl: string, instanceId: string, name: string): string =>
  `${notificationRoot(publicBaseUrl)}${encodeURIComponent(instanceId)}/${name}`;

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((x) => x.toLowerCase()));
  return b.every((x) => s.has(x.toLowerCase()));
};

export function planInstance(input: {
  instanceId: string;
  supportedInstances: readonly string[];
  specs: readonly SubscriptionSpec[];
  actual: readonly ActualSubscription[];
  publicBaseUrl: string;
}): InstancePlan {
  const { instanceId, publicBaseUrl } = input;
  const root = `${comparableUrl(notificationRoot(publicBaseUrl)) ?? notificationRoot(publicBaseUrl)}/`;
  const desired = specsFor(input.specs, input.supportedInstances, instanceId);
  const byUrl = new Map(desired.map((s) => [comparableUrl(callbackUrl(publicBaseUrl, instanceId, s.name)), s]));
  const actions: PlanAction[] = [];
  const inSync: Record<string, string> = {};
  const known: Record<string, string[]> = {};
  const foreign: ActualSubscription[] = [];
  const matches = new Map<string, ActualSubscription[]>();

  for (const a of input.actual) {
    const url = comparableUrl(a.url);
    if (url === undefined || !url.startsWith(root)) {
      foreign.push(a);
      continue;
    }
    if (a.unreadable !== undefined) {
      // ours, but not what we register (our own entries are read strictly): replace it if we can address it
      if (isGuid(a.id)) actions.push({ kind: 'delete', id: a.id, url: a.url, name: url.slice(root.length).split('/')[1] ?? null, reason: 'unreadable' });
      else foreign.push(a);
      continue;
    }
    const spec = byUrl.get(url);
    if (spec === undefined) {
      // ours, but no desired subscription has this URL here (deleted, narrowed, or another instance's path)
      const name = url.slice(root.length).split('/')[1] ?? null;
      actions.push({ kind: 'delete', id: a.id, url: a.url, name, reason: 'not-desired' });
      continue;
    }
    const list = matches.get(spec.name) ?? [];
    list.push(a);
    matches.set(spec.name, list);
  }

  for (const spec of desired) {
    const url = callbackUrl(publicBaseUrl, instanceId, spec.name);
    const wantVersion = keyVersionId(spec.keyVersion);
    const found = matches.get(spec.name) ?? [];
    if (found.length > 0) known[spec.name] = found.map((a) => a.id);
    if (found.length === 0) {
      actions.push({ kind: 'create', name: spec.name, url, typeIds: spec.typeIds, keyVersion: spec.keyVersion });
      continue;
    }
    // keep the one that already matches best (fewest changes), remove the duplicates
    const scored = found
      .map((a) => ({ a, changes: [...(sameSet(a.typeIds, spec.typeIds) ? [] : ['type-ids']), ...(a.keyVersionId === wantVersion ? [] : ['key-version'])] }))
      .sort((x, y) => x.changes.length - y.changes.length || x.a.id.localeCompare(y.a.id));
    const [keep, ...dupes] = scored;
    if (keep!.changes.length === 0) inSync[spec.name] = keep!.a.id;
    else actions.push({ kind: 'update', name: spec.name, id: keep!.a.id, url, typeIds: spec.typeIds, keyVersion: spec.keyVersion, changes: keep!.changes });
    for (const d of dupes) actions.push({ kind: 'delete', id: d.a.id, url: d.a.url, name: spec.name, reason: 'duplicate' });
  }
  return { instanceId, actions, inSync, known, foreign };
}
