// The instance settings parse synthetic environments; every bad value names its variable.
import t from 'tap';
import { parseSettings } from '../../src/config/kit.ts';
import { APP_CERT_PEM, APP_ID, APP_KEY_PEM } from '../../support/fixtures.ts';
import { INSTANCE_SETTINGS, checkInstanceSettings, type InstanceSettings } from '../../src/config/instances.ts';

const BASE = { HV_APP_ID: APP_ID, HV_APP_CERT: APP_CERT_PEM, HV_APP_PRIVATE_KEY: APP_KEY_PEM, HV_DISCOVERY_URL: 'https://platform.example/platform/wildcat.ashx' };

/** What loadConfig does with each setting (the same loop): parse, and prefix a rejection with the variable. */
function parse(env: Record<string, string>): { settings?: InstanceSettings; problems: string[] } {
  const { values, problems } = parseSettings(INSTANCE_SETTINGS, env);
  return problems.length > 0 ? { problems: problems.map((p) => p.message) } : { settings: values, problems: [] };
}

t.test('defaults with discovery', async (t) => {
  const { settings, problems } = parse(BASE);
  t.same(problems, []);
  const s = settings!;
  t.equal(s.hvDiscoveryUrl, BASE.HV_DISCOVERY_URL);
  t.same(s.hvInstances, []);
  t.same(s.hvInstanceFilter, { kind: 'all' });
  t.equal(s.hvMsgTtlSeconds, 1800, 'SDK default msg-ttl (§4.2)');
  t.equal(s.hvSessionTtlSeconds, 14_400, 'SDK-assumed 4 h token lifetime (§4.4)');
  t.equal(s.hvMaxRetries, 2);
  t.equal(s.hvAppPrivateKey.asymmetricKeyType, 'rsa');
  t.same(checkInstanceSettings(s), []);
  t.ok(Object.values(INSTANCE_SETTINGS).filter((x) => x.secret).map((x) => x.env).includes('HV_APP_PRIVATE_KEY'), 'the key is a secret (accepts _FILE)');
});

t.test('explicit list and filters', async (t) => {
  const list = [
    { id: '1', name: 'US', platformUrl: 'https://a.example/platform/wildcat.ashx', shellUrl: 'https://account.a.example/' },
    { id: '2', platformUrl: 'http://127.0.0.1:9/platform/wildcat.ashx', shellUrl: 'https://account.b.example/' },
  ];
  const { settings } = parse({ ...BASE, HV_DISCOVERY_URL: '', HV_INSTANCES: JSON.stringify(list), HV_DEFAULT_INSTANCE_ID: '2' });
  t.same(settings!.hvInstances.map((i) => [i.id, i.name]), [['1', 'US'], ['2', '2']], 'name defaults to the id');
  t.same(checkInstanceSettings(settings!), []);
  t.same(parse({ ...BASE, HV_INSTANCE_FILTER: 'default' }).settings!.hvInstanceFilter, { kind: 'default' });
  t.same(parse({ ...BASE, HV_INSTANCE_FILTER: '2, 1,2' }).settings!.hvInstanceFilter, { kind: 'ids', ids: ['2', '1'] });
});

t.test('every bad value names its variable and never echoes a secret', async (t) => {
  const { problems } = parse({
    HV_APP_ID: 'not-a-guid', HV_APP_CERT: 'garbage-cert', HV_APP_PRIVATE_KEY: 'garbage-key', HV_INSTANCES: '[{"id":"1"}]',
    HV_DISCOVERY_URL: 'ftp://x', HV_INSTANCE_FILTER: ',', HV_TOPOLOGY_REFRESH_MS: '5', HV_MAX_RETRIES: 'many', HV_POOL_CONNECTIONS: '0',
  });
  const text = problems.join('\n');
  for (const v of ['HV_APP_ID', 'HV_APP_CERT', 'HV_APP_PRIVATE_KEY', 'HV_INSTANCES', 'HV_DISCOVERY_URL', 'HV_INSTANCE_FILTER', 'HV_TOPOLOGY_REFRESH_MS', 'HV_MAX_RETRIES', 'HV_POOL_CONNECTIONS']) {
    t.match(text, new RegExp(`^${v} `, 'm'), `${v} is named`);
  }
  t.notMatch(text, /garbage/, 'rejected secrets are not echoed');
  t.match(text, /HV_INSTANCES entry 1 needs "platformUrl"/);
  t.match(parse({ ...BASE, HV_INSTANCES: '[{"id":"1","platformUrl":"x","shellUrl":"https://s/"}]' }).problems.join(), /HV_INSTANCES entry 1 "platformUrl" must be an absolute http\(s\) URL/);
  t.match(parse({ ...BASE, HV_INSTANCES: '[{"id":"1","platformUrl":"https://p/","shellUrl":"https://s/"},{"id":"1","platformUrl":"https://p/","shellUrl":"https://s/"}]' }).problems.join(), /repeats id "1"/);
  t.match(parse({ ...BASE, HV_INSTANCES: '{' }).problems.join(), /HV_INSTANCES must be a JSON array/);
  t.match(parse({ ...BASE, HV_APP_ID: '' }).problems.join(), /HV_APP_ID is required/);
});

t.test('checks across variables', async (t) => {
  const list = JSON.stringify([{ id: '1', platformUrl: 'https://p/', shellUrl: 'https://s/' }]);
  const problems = (env: Record<string, string>) => checkInstanceSettings(parse(env).settings!).map((p) => p.message).join('\n');
  t.match(problems({ ...BASE, HV_INSTANCES: list }), /HV_INSTANCES and HV_DISCOVERY_URL are both set/);
  t.match(problems({ ...BASE, HV_DISCOVERY_URL: '' }), /HV_DISCOVERY_URL is required unless HV_INSTANCES/);
  t.match(problems({ ...BASE, HV_DISCOVERY_URL: '', HV_INSTANCES: list, HV_DEFAULT_INSTANCE_ID: '9' }), /HV_DEFAULT_INSTANCE_ID names "9", which HV_INSTANCES does not list/);
  t.match(problems({ ...BASE, HV_SESSION_TTL_SECONDS: '600', HV_SESSION_RENEW_BEFORE_SECONDS: '600' }), /HV_SESSION_RENEW_BEFORE_SECONDS must be smaller/);
  const { generateKeyPairSync } = await import('node:crypto');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  t.match(problems({ ...BASE, HV_APP_PRIVATE_KEY: other }), /HV_APP_PRIVATE_KEY does not belong to HV_APP_CERT/);
});
