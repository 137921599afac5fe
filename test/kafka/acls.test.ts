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
  // every topic the gateway writes or owns may be created; the enrichment stage's Read row on the events topic adds no Create
  t.ok(gatewayAcls(defaults).filter((a) => a.resource === 'Topic' && a.operations.some((o) => o !== 'Read')).every((a) => a.operations.includes('Create')));
  const leader = without.find((a) => a.resource === 'Topic' && a.name === 'hv-gateway.subscriptions.leader');
  t.same(leader?.operations, ['Read', 'Describe']);
  t.same(without.find((a) => a.resource === 'Group' && a.pattern === 'prefixed')?.name, 'hv-gateway-store-');
  t.same(without.map((a) => a.name).filter((n) => n.startsWith('healthvault.')), ['healthvault.events', 'healthvault.dead-letter', 'healthvault.events', 'healthvault.things']);
  t.match(aclCommands(without, 'User:gw'), /--allow-principal User:gw --operation Read --group 'hv-gateway-store-' --resource-pattern-type prefixed/);
});

t.test('residency routes: every routed topic gets the rights of its default; the enrichment group reads every events topic', async (t) => {
  const routes = { events: new Map([['2', 'ev.eu']]), deadLetter: new Map([['2', 'dl.eu']]), things: new Map([['2', 'th.eu'], ['3', 'th.eu']]) };
  const acls = gatewayAcls({ ...defaults, createTopics: false, routes });
  const ops = (name: string) => acls.filter((a) => a.resource === 'Topic' && a.name === name).flatMap((a) => a.operations).sort();
  t.same(ops('ev.eu'), ['Describe', 'Read', 'Write'], 'routed events topic: produced to and consumed by the enrichment stage');
  t.same(ops('healthvault.events'), ['Describe', 'Read', 'Write']);
  t.same(ops('dl.eu'), ['Describe', 'Write']);
  t.same(ops('th.eu'), ['Describe', 'Write'], 'one row for a topic two instances share');
  t.equal(acls.filter((a) => a.name === 'th.eu').length, 1);
  t.same(acls.filter((a) => a.resource === 'Group').map((a) => a.name), ['hv-gateway.subscriptions.leader', 'hv-gateway-store-', 'hv-gateway-enrichment']);
});
