// Refusals no retry can fix (issue 13 point 6): the subscription limit (133), a missing method
// group (11) and invalid subscription data (134) are configuration problems. The instance layer
// tells which refusal is one (InstancePlatform.configurationRefusal); the reconciler reports it
// once, on the subscription's per-instance state, with what to fix (below), and tries again only
// when the spec changes or an operator asks (POST /v1/reconcile) — not pass after pass.
import { HV_STATUS_ACCESS_DENIED, HV_STATUS_SUBSCRIPTION_LIMIT_EXCEEDED } from '../healthvault/index.ts';

const RETRY = 'retried when the subscription changes or on POST /v1/reconcile';

/** What the operator reads on the per-instance state: what is wrong and what to fix. */
export function configMessage(status: number, instanceId: string, what: string, detail: string): string {
  const where = `instance ${instanceId}`;
  const platform = detail === '' ? '' : ` (platform: ${detail.slice(0, 200)})`;
  if (status === HV_STATUS_ACCESS_DENIED) {
    return `configuration: the application lacks the Eventing method group in ${where} (status 11 ACCESS_DENIED on ${what}); enable "Eventing methods" for the app in that instance's Application Configuration Center${platform}; ${RETRY}`;
  }
  if (status === HV_STATUS_SUBSCRIPTION_LIMIT_EXCEEDED) {
    return `configuration: the application's subscription limit is reached in ${where} (status 133 on ${what}); delete subscriptions there (see "foreign" in /v1/consistency) or limit this one with "instances"${platform}; ${RETRY}`;
  }
  return `configuration: ${where} refused the subscription as invalid (status 134 on ${what}); check that PUBLIC_BASE_URL is https and under the application's ActionURL root${platform}; ${RETRY}`;
}
