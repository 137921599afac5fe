// The README's ACL list is the one the tests grant (src/kafka/acls.ts), so it cannot drift.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { aclCommands, aclTable, gatewayAcls } from '../../src/kafka/acls.ts';

const defaults = { eventsTopic: 'healthvault.events', stateTopic: 'hv-gateway.subscriptions', clientId: 'hv-gateway', createTopics: true };

t.test('the README lists exactly the ACLs of the default settings (npm run acl-list -- --write)', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const m = /<!-- acl-list:start -->\n([\s\S]*?)<!-- acl-list:end -->/.exec(readme);
  t.ok(m, 'README has the acl-list markers');
  t.equal(m?.[1], aclTable(gatewayAcls(defaults)));
});

t.test('least privilege: no Create without KAFKA_CREATE_TOPICS; nothing on the cluster; the leader topic is never written', async (t) => {
  const without = gatewayAcls({ ...defaults, createTopics: false });
  t.notOk(without.some((a) => a.operations.includes('Create')));
  t.ok(gatewayAcls(defaults).filter((a) => a.resource === 'Topic').every((a) => a.operations.includes('Create')));
  const leader = without.find((a) => a.resource === 'Topic' && a.name === 'hv-gateway.subscriptions.leader');
  t.same(leader?.operations, ['Read', 'Describe']);
  t.same(without.find((a) => a.resource === 'Group' && a.pattern === 'prefixed')?.name, 'hv-gateway-store-');
  t.same(without.map((a) => a.name).filter((n) => n.startsWith('healthvault.')), ['healthvault.events', 'healthvault.dead-letter', 'healthvault.things']);
  t.match(aclCommands(without, 'User:gw'), /--allow-principal User:gw --operation Read --group 'hv-gateway-store-' --resource-pattern-type prefixed/);
});
