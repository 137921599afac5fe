// Topology discovery (healthvault-protocol.md §3.2): the anonymous GetServiceDefinition v2 call
// for the topology section, and the choice of instances to support from its answer. Pure apart
// from the one request, so the registry only has to apply the result.
import { trimTrailingSlashes } from '../config/kit.ts';
import { HvgError, isHvgError } from '../errors.ts';
import {
  HV_METHODS, buildAnonymousRequest, buildGetServiceDefinitionInfo, parseGetServiceDefinitionResponse,
  type ServiceInstance,
} from '../healthvault/index.ts';
import type { PlatformClient } from './platform-client.ts';
import type { InstanceFilter } from '../config/instances.ts';

const GSD = HV_METHODS.GetServiceDefinition;

export interface FetchTopologyOptions {
  readonly appId: string;
  readonly msgTtlSeconds: number;
  readonly clientVersion: string;
  /** updated-date of the last non-empty answer: an unchanged topology then comes back empty */
  readonly updatedDate: string | undefined;
  readonly signal?: AbortSignal;
  readonly now: () => number;
}

export type TopologyAnswer =
  | { readonly modified: false }
  | { readonly modified: true; readonly instances: readonly ServiceInstance[]; readonly currentInstanceId: string; readonly updatedDate: string | undefined };

export async function fetchTopology(client: PlatformClient, o: FetchTopologyOptions): Promise<TopologyAnswer> {
  let result;
  try {
    const response = await client.send(
      () => buildAnonymousRequest({
        method: GSD.name, methodVersion: GSD.version, appId: o.appId,
        msgTime: new Date(o.now()), msgTtl: o.msgTtlSeconds, version: o.clientVersion,
        info: buildGetServiceDefinitionInfo({ sections: ['topology'], ...(o.updatedDate === undefined ? {} : { updatedDate: o.updatedDate }) }),
      }),
      { method: GSD.name, signal: o.signal },
    );
    result = parseGetServiceDefinitionResponse(response);
  } catch (err) {
    throw discoveryError(err, client.url);
  }
  if (!result.modified) return result;
  if (result.instances === undefined || result.currentInstanceId === undefined) {
    throw new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `topology discovery from ${client.url}: the answer has no instances section or no current-instance-id`);
  }
  for (const i of result.instances) {
    // checked before the registry changes anything, so a bad entry cannot leave half a view
    if (!isHttpUrl(i.platformUrl)) {
      throw new HvgError('HVG_ERR_INSTANCE_BAD_RESPONSE', `topology from ${client.url} lists instance "${i.id}" with platform-url ${JSON.stringify(i.platformUrl)}, which is not an http(s) URL`);
    }
  }
  return { modified: true, instances: result.instances, currentInstanceId: result.currentInstanceId, updatedDate: result.updatedDate };
}

export interface InstanceChoice {
  /** what the reconciler manages */
  readonly supported: ReadonlySet<string>;
  /** supported plus the default instance (kept for SelectInstance even when filtered out) */
  readonly tracked: ReadonlySet<string>;
  readonly defaultId: string | undefined;
  /** filter ids the topology does not list */
  readonly unknown: readonly string[];
}

/** HV_INSTANCE_FILTER over a topology answered by `currentId`; HV_DEFAULT_INSTANCE_ID overrides the default. */
export function chooseInstances(topology: readonly ServiceInstance[], currentId: string, filter: InstanceFilter, defaultSetting: string): InstanceChoice {
  const listed = new Set(topology.map((i) => i.id));
  const wanted = filter.kind === 'all' ? [...listed] : filter.kind === 'default' ? [currentId] : filter.ids;
  const supported = new Set(wanted.filter((id) => listed.has(id)));
  const defaultId = listed.has(defaultSetting || currentId) ? defaultSetting || currentId : undefined;
  return {
    supported,
    tracked: new Set([...supported, ...(defaultId === undefined ? [] : [defaultId])]),
    defaultId,
    unknown: wanted.filter((id) => !listed.has(id)),
  };
}

function discoveryError(err: unknown, url: string): unknown {
  if (!isHvgError(err)) return err;
  const code = err.code.startsWith('HVG_ERR_XML') || err.code === 'HVG_ERR_PROTOCOL' ? 'HVG_ERR_INSTANCE_BAD_RESPONSE' : err.code;
  return new HvgError(code, `topology discovery from ${url} failed: ${err.message}`, { cause: err, details: { ...err.details, discoveryUrl: url } });
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

export function sameUrl(a: string, b: string): boolean {
  return trimTrailingSlashes(a).toLowerCase() === trimTrailingSlashes(b).toLowerCase();
}

export function sameInstance(a: ServiceInstance, b: ServiceInstance): boolean {
  return a.name === b.name && a.description === b.description && sameUrl(a.platformUrl, b.platformUrl) && a.shellUrl === b.shellUrl;
}

/** Instance ids are strings that happen to be numeric today (§3.1): numeric order, then text. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
