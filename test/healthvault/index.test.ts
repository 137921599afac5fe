import t from 'tap';
import * as hv from '../../src/healthvault/index.ts';

t.test('the barrel exposes the public API', async (t) => {
  const names = [
    'parseXml', 'buildAnonymousRequest', 'buildAuthenticatedRequest', 'parseRequest', 'verifyInfoHash', 'verifyHeaderHmac',
    'buildResponse', 'parseResponse', 'statusInfo', 'statusError', 'buildCastRequest', 'parseCastRequest', 'verifyCastSignature',
    'buildCastResponse', 'parseCastResponse', 'buildSubscribeToEventInfo', 'parseGetEventSubscriptionsResponse',
    'buildGetServiceDefinitionInfo', 'parseGetServiceDefinitionResponse', 'buildSelectInstanceInfo', 'parseSelectInstanceResponse',
    'parseNotificationBody', 'buildNotificationBody', 'parseNotificationAuthorization', 'verifyNotification', 'notificationKeyObject',
  ];
  for (const name of names) t.equal(typeof (hv as Record<string, unknown>)[name], 'function', name);
});
