// Every error that leaves this module names the instance it is about, keeps its stable code (so
// err.retriable still says whether a retry can help) and carries the HealthVault status in details.
import { HvgError, isHvgError } from '../errors.ts';
import { HV_STATUS_ACCESS_DENIED, HV_STATUS_SUBSCRIPTION_INVALID, HV_STATUS_SUBSCRIPTION_LIMIT_EXCEEDED } from '../healthvault/status-codes.ts';

const CONFIG_STATUSES = new Set([HV_STATUS_SUBSCRIPTION_LIMIT_EXCEEDED, HV_STATUS_ACCESS_DENIED, HV_STATUS_SUBSCRIPTION_INVALID]);

/**
 * The HealthVault status of a refusal that is a configuration problem no retry can fix — 133 the
 * application's subscription limit, 11 a missing method group, 134 invalid subscription data —
 * else undefined (InstancePlatform.configurationRefusal).
 */
export function configurationRefusal(err: unknown): number | undefined {
  const s = (err as { details?: { hvStatus?: unknown } } | null)?.details?.hvStatus;
  return typeof s === 'number' && CONFIG_STATUSES.has(s) ? s : undefined;
}

/** `instance "2" (EU)`: the id is what operators configure, the name what they recognise. */
export function instanceLabel(id: string, name?: string): string {
  return name !== undefined && name !== '' && name !== id ? `instance "${id}" (${name})` : `instance "${id}"`;
}

/** Same code, message prefixed with the label, instanceId added to details. */
export function forInstance(err: unknown, label: string, instanceId: string): unknown {
  if (!isHvgError(err)) return err;
  if (err.details?.instanceId === instanceId && err.message.startsWith(label)) return err;
  const message = err.message.startsWith(label) ? err.message : `${label}: ${err.message}`;
  return new HvgError(err.code, message, { cause: err, details: { ...err.details, instanceId } });
}

/** What /v1/instances and readiness show of an error: never a stack, never a secret. */
export interface ErrorSummary {
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
  readonly hvStatus: number | null;
  readonly at: string;
}

export function summarize(err: unknown, at: number): ErrorSummary {
  if (isHvgError(err)) {
    const hv = err.details?.hvStatus;
    return { code: err.code, message: err.message, retriable: err.retriable, hvStatus: typeof hv === 'number' ? hv : null, at: new Date(at).toISOString() };
  }
  return { code: 'HVG_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err), retriable: false, hvStatus: null, at: new Date(at).toISOString() };
}

/** Waits for a shared promise without letting one caller's abort cancel it for the others. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
