import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  buildSelectInstanceInfo, buildSelectInstanceResponse, parseSelectInstanceInfo, parseSelectInstanceResponse,
} from '../../src/healthvault/select-instance.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const EU = {
  id: '2', name: 'EU', description: 'EU instance',
  platformUrl: 'https://platform.healthvault.co.uk/platform/wildcat.ashx', shellUrl: 'https://account.healthvault.co.uk/',
};

t.test('request info', async (t) => {
  t.same(parseSelectInstanceInfo(fixture('selectinstance-request-info.xml')), { country: 'DE', stateProvince: undefined });
  t.equal(buildSelectInstanceInfo({ country: 'DE' }), '<info><preferred-location><country>DE</country></preferred-location></info>');
  const withState = buildSelectInstanceInfo({ country: 'US', stateProvince: 'US-WA' });
  t.equal(withState, '<info><preferred-location><country>US</country><state-province>US-WA</state-province></preferred-location></info>');
  t.same(parseSelectInstanceInfo(withState), { country: 'US', stateProvince: 'US-WA' });
  t.throws(() => buildSelectInstanceInfo({ country: 'DEUT' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildSelectInstanceInfo({ country: '' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildSelectInstanceInfo({ country: 'US', stateProvince: ' ' }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => parseSelectInstanceInfo('<info/>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseSelectInstanceInfo('<info><preferred-location><country>Germany</country></preferred-location></info>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
});

t.test('responses', async (t) => {
  t.same(parseSelectInstanceResponse(fixture('selectinstance-response.xml')), EU);
  t.equal(parseSelectInstanceResponse(fixture('selectinstance-response-unsupported-country.xml')), undefined);
  t.same(parseSelectInstanceResponse(buildSelectInstanceResponse(EU)), EU);
  t.equal(parseSelectInstanceResponse(buildSelectInstanceResponse(undefined)), undefined);
  t.match(buildSelectInstanceResponse(EU), /<wc:info xmlns:wc="urn:com.microsoft.wc.methods.response.SelectInstance"><selected-instance><id>2<\/id><name>EU<\/name>/);
  t.throws(() => parseSelectInstanceResponse(fixture('selectinstance-response.xml').replace(/<shell-url>.*<\/shell-url>/, '')), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseSelectInstanceResponse(fixture('error-response-session-expired.xml')), { code: 'HVG_ERR_HV_SESSION_EXPIRED' });
});
