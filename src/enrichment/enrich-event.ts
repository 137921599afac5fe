// One event → its thing records, fetched in the event's own instance. The instance is the one the
// event was tagged with (hv_instance_id, set from the key that verified the notification): the
// source is looked up by that id and no other is ever asked.
//  - returned things → `thing` records; requested ids not returned → `unavailable` (§4.6.6);
//  - a refusal retrying cannot fix (access revoked, person or record gone, …) → one `error`
//    record per thing with the status, and the event is done;
//  - a retriable failure backs the instance off (its gate) and is retried until `deadline`;
//    past it the event is "held": not done, so its offset is not committed and Kafka gives it
//    back later — never skipped.
import { isHvgError } from '../errors.ts';
import type { ThingsAnswer, ThingsSource } from '../instances/things.ts';
import type { SinkRecord } from '../sink/record.ts';
import type { InstanceGate } from './instance-gate.ts';
import { toThingRecord, type EnrichEvent, type ThingOutcome } from './thing-record.ts';

export interface SourceDirectory {
  /** the instance's things source; undefined when the gateway does not support that instance */
  platform(instanceId: string): ThingsSource | undefined;
  /** false until the first topology is known: an unknown instance may still appear */
  hasView(): boolean;
}

export interface EnrichContext {
  readonly sources: SourceDirectory;
  gate(instanceId: string): InstanceGate;
  thingsTopic(instanceId: string): string;
  publish(records: readonly SinkRecord[]): Promise<void>;
  /** a retriable failure was seen (metrics): status or error code */
  onError(instanceId: string, status: string): void;
  now?: () => Date;
}

export class HeldEvent extends Error {
  readonly instanceId: string;
  constructor(instanceId: string, cause: unknown) {
    super(`instance ${instanceId}: still failing, event held for a later fetch`, { cause });
    this.instanceId = instanceId;
  }
}

export interface Enriched {
  readonly outcomes: readonly ThingOutcome[];
}

const statusOf = (err: unknown): { hvStatus: number | null; code: string; message: string; retriable: boolean } => {
  if (isHvgError(err)) {
    const s = (err.details as { hvStatus?: unknown } | undefined)?.hvStatus;
    return { hvStatus: typeof s === 'number' ? s : null, code: err.code, message: err.message.slice(0, 500), retriable: err.retriable };
  }
  // anything not coded (a bug, a socket error that escaped) is retried rather than turned into data
  return { hvStatus: null, code: 'HVG_ERR_INTERNAL', message: err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500), retriable: true };
};

/** Fetch, retrying retriable failures until `deadline` (then HeldEvent); resolves with the outcomes. */
export async function fetchOutcomes(ctx: EnrichContext, e: EnrichEvent, deadline: number, signal?: AbortSignal): Promise<ThingOutcome[]> {
  const ids = [...new Set(e.thingIds.map((t) => t.toLowerCase()))];
  if (ids.length === 0) return [];
  const gate = ctx.gate(e.instanceId);
  for (;;) {
    const source = ctx.sources.platform(e.instanceId);
    if (source === undefined && ctx.sources.hasView()) {
      // the event names an instance this gateway does not (or no longer) support: nobody can fetch it here
      return ids.map((thingId) => ({ kind: 'error', thingId, hvStatus: null, code: 'HVG_ERR_NOT_FOUND', message: `instance "${e.instanceId.slice(0, 64)}" is not supported by this gateway` }));
    }
    let answer: ThingsAnswer | undefined;
    let failure: unknown;
    if (source !== undefined) {
      try {
        answer = await gate.run(() => source.getThings({ personId: e.personId, recordId: e.recordId, thingIds: ids }, signal), signal);
      } catch (err) {
        failure = err;
      }
    } else failure = new Error('instance topology not known yet');
    if (answer !== undefined) {
      gate.succeeded();
      return outcomesOf(ids, answer);
    }
    if (signal?.aborted) throw signal.reason;
    const s = statusOf(failure);
    ctx.onError(e.instanceId, s.hvStatus !== null ? String(s.hvStatus) : s.code);
    if (!s.retriable) return ids.map((thingId) => ({ kind: 'error', thingId, hvStatus: s.hvStatus, code: s.code, message: s.message }));
    gate.failed();
    if (Date.now() >= deadline) throw new HeldEvent(e.instanceId, failure);
  }
}

/** Things in the order asked; an asked id the platform did not return is `unavailable`. */
export function outcomesOf(ids: readonly string[], answer: ThingsAnswer): ThingOutcome[] {
  const byId = new Map(answer.things.map((t) => [t.thingId.toLowerCase(), t]));
  return ids.map((thingId): ThingOutcome => {
    const thing = byId.get(thingId);
    return thing === undefined ? { kind: 'unavailable', thingId } : { kind: 'thing', thing };
  });
}

/** Fetch and publish; resolves once Kafka acknowledged every record of the event. */
export async function enrichEvent(ctx: EnrichContext, e: EnrichEvent, deadline: number, signal?: AbortSignal): Promise<ThingOutcome[]> {
  const outcomes = await fetchOutcomes(ctx, e, deadline, signal);
  if (outcomes.length === 0) return outcomes;
  const at = ctx.now?.() ?? new Date();
  const topic = ctx.thingsTopic(e.instanceId);
  await ctx.publish(outcomes.map((o) => toThingRecord(e, o, topic, at)));
  return outcomes;
}
