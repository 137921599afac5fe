import t from 'tap';
import { HV_METHODS, requestInfoNamespaces, responseInfoNamespace } from '../../src/healthvault/methods.ts';

t.test('method table (protocol §1, §3, §4.3)', async (t) => {
  for (const m of ['SubscribeToEvent', 'GetEventSubscriptions', 'UpdateEventSubscription', 'UnsubscribeToEvent'] as const) {
    t.match(HV_METHODS[m], { version: 1, anonymous: false });
  }
  t.match(HV_METHODS.GetServiceDefinition, { version: 2, anonymous: true, responseInfo: 'GetServiceDefinition2' });
  t.match(HV_METHODS.CreateAuthenticatedSessionToken, { version: 2, anonymous: true, responseInfo: 'CreateAuthenticatedSessionToken2' });
  t.match(HV_METHODS.SelectInstance, { version: 1, anonymous: false });
  t.equal(HV_METHODS.UpdateEventSubscription.responseInfo, undefined);
  t.equal(responseInfoNamespace('SubscribeToEvent'), 'urn:com.microsoft.wc.methods.response.SubscribeToEvent');
  t.same(requestInfoNamespaces('SelectInstance'), ['', 'urn:com.microsoft.wc.methods.SelectInstance']);
});
