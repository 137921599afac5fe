// Choosing the supported instances from a topology answer (pure; the request itself is covered
// against the simulator in registry.test.ts).
import t from 'tap';
import { chooseInstances, compareIds } from '../../src/instances/topology.ts';

const topo = ['1', '2', '10'].map((id) => ({ id, name: id, description: '', platformUrl: `https://p${id}/`, shellUrl: `https://s${id}/` }));
const sorted = (s: ReadonlySet<string>) => [...s].sort(compareIds);

t.test('filters', async (t) => {
  const all = chooseInstances(topo, '1', { kind: 'all' }, '');
  t.same([sorted(all.supported), sorted(all.tracked), all.defaultId, all.unknown], [['1', '2', '10'], ['1', '2', '10'], '1', []]);
  const single = chooseInstances(topo, '2', { kind: 'default' }, '');
  t.same([sorted(single.supported), single.defaultId], [['2'], '2'], 'single-instance mode: the one that answered');
  const ids = chooseInstances(topo, '1', { kind: 'ids', ids: ['10', '7'] }, '');
  t.same([sorted(ids.supported), sorted(ids.tracked), ids.defaultId, ids.unknown], [['10'], ['1', '10'], '1', ['7']], 'the default is tracked, not supported');
  const override = chooseInstances(topo, '1', { kind: 'all' }, '2');
  t.equal(override.defaultId, '2', 'HV_DEFAULT_INSTANCE_ID wins');
  t.equal(chooseInstances(topo, '1', { kind: 'all' }, '9').defaultId, undefined, 'an unlisted default is no default');
});

t.test('ids sort numerically but stay strings', async (t) => {
  t.same(['10', '2', '1', 'eu-west'].sort(compareIds), ['1', '2', '10', 'eu-west']);
});
