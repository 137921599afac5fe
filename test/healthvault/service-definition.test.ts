import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  buildGetServiceDefinitionInfo, buildGetServiceDefinitionResponse, parseGetServiceDefinitionInfo, parseGetServiceDefinitionResponse,
} from '../../src/healthvault/service-definition.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/healthvault/${name}`, import.meta.url), 'utf8');
const US = {
  id: '1', name: 'US', description: 'US instance',
  platformUrl: 'https://platform.healthvault.com/platform/wildcat.ashx', shellUrl: 'https://account.healthvault.com/',
};
const EU = {
  id: '2', name: 'EU', description: 'EU instance',
  platformUrl: 'https://platform.healthvault.co.uk/platform/wildcat.ashx', shellUrl: 'https://account.healthvault.co.uk/',
};

t.test('request info', async (t) => {
  t.equal(buildGetServiceDefinitionInfo(), '<info/>');
  t.equal(buildGetServiceDefinitionInfo({ sections: ['topology'] }), '<info><response-sections><section>topology</section></response-sections></info>');
  const full = buildGetServiceDefinitionInfo({ updatedDate: '2019-01-15T08:00:00', sections: ['topology'] });
  t.equal(full, '<info><updated-date>2019-01-15T08:00:00</updated-date><response-sections><section>topology</section></response-sections></info>');
  t.same(parseGetServiceDefinitionInfo(fixture('getservicedefinition2-request-info.xml')), { updatedDate: '2019-01-15T08:00:00', sections: ['topology'] });
  t.same(parseGetServiceDefinitionInfo(full), parseGetServiceDefinitionInfo(fixture('getservicedefinition2-request-info.xml')));
  t.same(parseGetServiceDefinitionInfo('<info/>'), { updatedDate: undefined, sections: undefined });
  t.equal(buildGetServiceDefinitionInfo({ updatedDate: new Date('2019-01-15T08:00:00Z') }), '<info><updated-date>2019-01-15T08:00:00.000Z</updated-date></info>');
  t.throws(() => buildGetServiceDefinitionInfo({ sections: ['everything' as never] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetServiceDefinitionInfo({ sections: [] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => parseGetServiceDefinitionInfo('<info><response-sections><section>all</section></response-sections></info>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseGetServiceDefinitionInfo('<info><response-sections/></info>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  t.throws(() => parseGetServiceDefinitionInfo('<info><updated-date>soon</updated-date></info>'), { code: 'HVG_ERR_XML_UNEXPECTED' });
});

t.test('topology responses (US and EU fixtures)', async (t) => {
  for (const [file, current] of [['getservicedefinition2-topology-response-us.xml', '1'], ['getservicedefinition2-topology-response-eu.xml', '2']] as const) {
    const parsed = parseGetServiceDefinitionResponse(fixture(file));
    t.same(parsed, { modified: true, currentInstanceId: current, instances: [US, EU], updatedDate: '2019-01-15T08:00:00' }, file);
    const rebuilt = buildGetServiceDefinitionResponse({ currentInstanceId: current, instances: [US, EU], updatedDate: '2019-01-15T08:00:00' });
    t.same(parseGetServiceDefinitionResponse(rebuilt), parsed, `${file} round trip`);
  }
});

t.test('not-modified answer', async (t) => {
  t.same(parseGetServiceDefinitionResponse(fixture('getservicedefinition2-not-modified-response.xml')), { modified: false });
  const built = buildGetServiceDefinitionResponse(null);
  t.equal(built, '<?xml version="1.0" encoding="utf-8"?><response><status><code>0</code></status><wc:info xmlns:wc="urn:com.microsoft.wc.methods.response.GetServiceDefinition2"/></response>');
  t.same(parseGetServiceDefinitionResponse(built), { modified: false });
  t.same(parseGetServiceDefinitionResponse(fixture('status-only-response.xml')), { modified: false }, 'no info at all [I]');
});

t.test('other sections are ignored; shape errors are reported', async (t) => {
  const withPlatform = fixture('getservicedefinition2-topology-response-us.xml').replace('<instances current', '<platform><url>https://x</url><version>1</version></platform><instances current');
  t.equal((parseGetServiceDefinitionResponse(withPlatform) as { instances: unknown[] }).instances.length, 2);
  const platformOnly = fixture('getservicedefinition2-topology-response-us.xml').replace(/<instances current.*<\/instances>/s, '<platform><url>https://x</url></platform>');
  t.match(parseGetServiceDefinitionResponse(platformOnly), { modified: true, instances: undefined, currentInstanceId: undefined });
  const ok = fixture('getservicedefinition2-topology-response-us.xml');
  const cases: Record<string, string> = {
    emptyInstances: ok.replace(/<instances current-instance-id="1">.*<\/instances>/s, '<instances current-instance-id="1"/>'),
    noPlatformUrl: ok.replace(/<platform-url>[^<]*<\/platform-url>/, ''),
    emptyId: ok.replace('<id>1</id>', '<id> </id>'),
    badDate: ok.replace('<updated-date>2019-01-15T08:00:00', '<updated-date>x'),
    wrongInfo: ok.replace('GetServiceDefinition2', 'GetServiceDefinition'),
  };
  for (const [name, xml] of Object.entries(cases)) t.throws(() => parseGetServiceDefinitionResponse(xml), { name: 'HvgError', code: 'HVG_ERR_XML_UNEXPECTED' }, name);
  t.throws(() => buildGetServiceDefinitionResponse({ currentInstanceId: '1', instances: [] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetServiceDefinitionResponse({ currentInstanceId: '', instances: [US] }), { code: 'HVG_ERR_VALIDATION' });
  t.throws(() => buildGetServiceDefinitionResponse({ currentInstanceId: '1', instances: [{ ...US, name: 'x'.repeat(256) }] }), { code: 'HVG_ERR_VALIDATION' });
});
