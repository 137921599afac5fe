import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  buildErrorResponse, buildResponse, expectSuccess, parseResponse, requiredInfo, successfulResponse,
} from '../../src/healthvault/response-envelope.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');

t.test('builds the documented shapes', async (t) => {
  t.equal(buildResponse({ code: 0 }), '<?xml version="1.0" encoding="utf-8"?><response><status><code>0</code></status></response>');
  t.equal(buildResponse({ code: 0, xmlDeclaration: false }), '<response><status><code>0</code></status></response>');
  t.equal(
    buildErrorResponse(133, 'The number of subscriptions for the application was exceeded.'),
    '<?xml version="1.0" encoding="utf-8"?><response><status><code>133</code><error><message>The number of subscriptions for the application was exceeded.</message></error></status></response>',
  );
  t.equal(
    buildResponse({ code: 0, info: { name: 'SelectInstance', inner: '' }, xmlDeclaration: false }),
    '<response><status><code>0</code></status><wc:info xmlns:wc="urn:com.microsoft.wc.methods.response.SelectInstance"/></response>',
  );
  t.equal(buildErrorResponse(3, 'a < b & c'), '<?xml version="1.0" encoding="utf-8"?><response><status><code>3</code><error><message>a &lt; b &amp; c</message></error></status></response>');
  t.throws(() => buildResponse({ code: -1 }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildErrorResponse(0, 'x'), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildResponse({ code: 0, info: { name: 'a b', inner: '' } }), { code: 'HVG_ERR_VALIDATION' });
});

t.test('parses fixtures: status-only, errors, info located by namespace', async (t) => {
  const ok = parseResponse(fixture('status-only-response.xml'));
  t.equal(ok.code, 0);
  t.equal(ok.status.name, 'OK');
  t.equal(ok.info, undefined);
  t.equal(ok.error, undefined);
  t.equal(expectSuccess(ok), ok);

  const limit = parseResponse(fixture('error-response-subscription-limit.xml'));
  t.equal(limit.code, 133);
  t.equal(limit.status.name, 'SUBSCRIPTION_LIMIT_EXCEEDED');
  t.equal(limit.error?.message, 'The number of subscriptions for the application was exceeded.');
  t.throws(() => expectSuccess(limit), { name: 'HvgError', code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 133 } });

  const expired = parseResponse(fixture('error-response-session-expired.xml'));
  t.equal(expired.code, 65);
  t.throws(() => expectSuccess(expired), { code: 'HVG_ERR_HV_SESSION_EXPIRED', retriable: true, details: { hvRetry: 'reauthenticate' } });

  const sub = parseResponse(fixture('subscribetoevent-response.xml'), { infoName: 'SubscribeToEvent' });
  t.equal(sub.infoName, 'SubscribeToEvent');
  t.equal(sub.info?.children[0]?.local, 'subscription-id');
  t.throws(() => parseResponse(fixture('subscribetoevent-response.xml'), { infoName: 'GetEventSubscriptions' }), { code: 'HVG_ERR_XML_UNEXPECTED' });
});

t.test('prefix and root namespace variants', async (t) => {
  const variants = [
    '<response><status><code>0</code></status><x:info xmlns:x="urn:com.microsoft.wc.methods.response.SubscribeToEvent"><subscription-id>4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218</subscription-id></x:info></response>',
    '<r:response xmlns:r="urn:com.microsoft.wc.response"><status><code>0</code></status><info xmlns="urn:com.microsoft.wc.methods.response.SubscribeToEvent"><subscription-id xmlns="">4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218</subscription-id></info></r:response>',
  ];
  for (const xml of variants) {
    const r = successfulResponse(xml, 'SubscribeToEvent');
    t.equal(requiredInfo(r, 'SubscribeToEvent').children[0]?.local, 'subscription-id');
  }
});

t.test('error context is read', async (t) => {
  const xml = '<response><status><code>1</code><error><message>boom</message><context><server-name>hv1</server-name><server-ip>10.0.0.1</server-ip><server-ip>10.0.0.2</server-ip><exception>NullReference</exception></context><error-info>more</error-info></error></status></response>';
  const r = parseResponse(xml);
  t.same(r.error, { message: 'boom', serverName: 'hv1', serverIps: ['10.0.0.1', '10.0.0.2'], exception: 'NullReference', errorInfo: 'more' });
  t.throws(() => expectSuccess(r), { code: 'HVG_ERR_HV_TRANSIENT', retriable: true, message: 'HealthVault status 1 FAILED: boom' });
  const timedOut = parseResponse('<response><status><code>49</code></status></response>');
  t.throws(() => expectSuccess(timedOut), { code: 'HVG_ERR_HV_TRANSIENT' });
  t.throws(() => successfulResponse('<response><status><code>999</code></status></response>', undefined), { code: 'HVG_ERR_HV_STATUS', details: { hvStatusName: 'UNKNOWN_999' } });
});

t.test('wrong shapes', async (t) => {
  const cases: Record<string, string> = {
    root: '<reply><status><code>0</code></status></reply>',
    rootNamespace: '<response xmlns="urn:other"><status><code>0</code></status></response>',
    noStatus: '<response/>',
    noCode: '<response><status/></response>',
    badCode: '<response><status><code>zero</code></status></response>',
    negativeCode: '<response><status><code>-1</code></status></response>',
    twoCodes: '<response><status><code>0</code><code>1</code></status></response>',
    twoStatus: '<response><status><code>0</code></status><status><code>1</code></status></response>',
    plainInfo: '<response><status><code>0</code></status><info/></response>',
    twoInfos: '<response><status><code>0</code></status><a:info xmlns:a="urn:com.microsoft.wc.methods.response.A"/><a:info xmlns:a="urn:com.microsoft.wc.methods.response.A"/></response>',
  };
  for (const [name, xml] of Object.entries(cases)) {
    t.throws(() => parseResponse(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
  }
  t.throws(() => requiredInfo(parseResponse(fixture('status-only-response.xml')), 'SubscribeToEvent'), { code: 'HVG_ERR_XML_UNEXPECTED' }, 'missing info');
});
