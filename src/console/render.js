// DOM building for the console. Every value from the gateway (names, URLs, error messages, some
// of which come from HealthVault) is inserted as text, never as HTML.

/** el('td', { class: 'x', 'data-state': 's' }, 'text', childNode, …) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** "12 s", "3 min", "2 h", "4 d" */
function span(s) {
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

// relative to the gateway's own clock (generatedAt), so a skewed laptop clock does not matter
const seconds = (iso, nowIso) => Math.round((Date.parse(iso) - Date.parse(nowIso)) / 1000);

/** "12 s ago" */
export function ago(iso, nowIso) {
  return iso ? `${span(Math.max(0, -seconds(iso, nowIso)))} ago` : 'never';
}

/** "in 3 h" for a time ahead */
export function until(iso, nowIso) {
  const s = seconds(iso, nowIso);
  return s >= 0 ? `in ${span(s)}` : `${span(-s)} ago`;
}

const num = (v, unit = '') => (v === null || v === undefined ? '—' : `${v}${unit}`);
const STATE_TEXT = { 'in-sync': 'in sync', pending: 'pending', error: 'error', missing: 'missing', 'not-targeted': 'not here' };

export function renderSummary(target, s) {
  const c = s.summary;
  target.replaceChildren(
    el('span', { class: `pill ${s.consistent ? 'state-in-sync' : 'state-error'}` }, s.consistent ? 'Consistent' : 'Not consistent'),
    ` ${s.subscriptions.length} subscription(s) · ${c['in-sync']} in sync · ${c.pending} pending · ${c.error} error · ${c.missing} missing · ${c.foreign} foreign`,
    el('br'),
    `This replica ${s.gateway.leader ? 'leads (it reconciles)' : 'follows (the leader reconciles)'} · Kafka sink ${s.gateway.sink.state}, ${s.gateway.sink.queuedRecords} queued`,
    s.gateway.sink.lastError ? ` · last sink error: ${s.gateway.sink.lastError}` : '',
    ` · rates over ${s.traffic.windowSeconds === null ? '— (first sample)' : `the last ${s.traffic.windowSeconds} s`}`,
  );
}

/** The matrix: rows = subscriptions, columns = instances; each cell a button that shows its details. */
export function renderMatrix(table, s, { onCell, onRotate }) {
  const ids = s.instances.filter((i) => i.supported).map((i) => i.id);
  const name = (id) => s.instances.find((i) => i.id === id)?.name ?? id;
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Subscription'), ids.map((id) => el('th', { scope: 'col', 'data-instance': id }, `${name(id)} (${id})`)), el('th', { scope: 'col' }, 'Key'));
  const rows = s.subscriptions.map((sub) =>
    el(
      'tr',
      { 'data-subscription': sub.name },
      el('th', { scope: 'row' }, el('span', { class: 'name' }, sub.name), el('span', { class: 'muted' }, ` ${sub.typeIds.length} type(s)`)),
      ids.map((id) => {
        const c = sub.cells.find((x) => x.instanceId === id) ?? { instanceId: id, state: 'not-targeted', keyVersion: null, lastSync: null, lastError: null, hvSubscriptionId: null };
        const line2 = c.state === 'not-targeted' ? 'limited to other instances' : `${c.keyVersion === null ? 'key —' : `key v${c.keyVersion}`} · ${ago(c.lastSync, s.generatedAt)}`;
        return el(
          'td',
          { 'data-instance': id, 'data-subscription': sub.name, 'data-state': c.state },
          el(
            'button',
            { type: 'button', class: `cell state-${c.state}`, 'data-key': `cell/${sub.name}/${id}`, title: c.lastError ?? `last sync ${c.lastSync ?? 'never'}`, 'aria-label': `${sub.name} in ${name(id)}: ${STATE_TEXT[c.state]}, ${line2}${c.lastError ? `, error: ${c.lastError}` : ''}`, onclick: () => onCell(sub, c) },
            el('span', { class: 'state' }, STATE_TEXT[c.state] ?? c.state),
            el('span', { class: 'meta' }, line2),
          ),
        );
      }),
      el('td', {}, el('span', { class: 'muted' }, `v${sub.keyVersion} `), el('button', { type: 'button', class: 'quiet small', 'data-key': `rotate/${sub.name}`, 'aria-label': `Rotate the key of ${sub.name}`, onclick: () => onRotate(sub) }, 'Rotate key…')),
    ),
  );
  const empty = s.subscriptions.length === 0 ? el('tr', {}, el('td', { colspan: ids.length + 2 }, 'No subscriptions yet: PUT /v1/subscriptions/{name} creates one.')) : null;
  table.replaceChildren(el('caption', { class: 'sr-only' }, 'State of every subscription in every instance'), el('thead', {}, head), el('tbody', {}, rows, empty));
}

export function renderCellDetail(target, sub, c, generatedAt) {
  target.hidden = false;
  target.replaceChildren(
    el('h3', {}, `${sub.name} in instance ${c.instanceId}`),
    el(
      'dl',
      {},
      el('dt', {}, 'State'), el('dd', { 'data-field': 'state' }, STATE_TEXT[c.state] ?? c.state),
      el('dt', {}, 'HealthVault subscription id'), el('dd', {}, c.hvSubscriptionId ?? '—'),
      el('dt', {}, 'Key version'), el('dd', {}, c.keyVersion === null ? '—' : `v${c.keyVersion} (desired v${sub.keyVersion})`),
      el('dt', {}, 'Last sync'), el('dd', {}, c.lastSync ? `${c.lastSync} (${ago(c.lastSync, generatedAt)})` : 'never'),
      el('dt', {}, 'Last error'), el('dd', { 'data-field': 'last-error' }, c.lastError ?? 'none'),
    ),
  );
}

export function renderForeign(target, s) {
  if (s.foreign.length === 0) return target.replaceChildren(el('p', { class: 'muted' }, 'None.'));
  target.replaceChildren(
    el('ul', { class: 'foreign' }, s.foreign.map((f) => el('li', { 'data-instance': f.instanceId }, el('strong', {}, `instance ${f.instanceId}`), ` ${f.url} `, el('span', { class: 'muted' }, `(id ${f.id}, ${f.typeIds.length} type(s))`)))),
  );
}

export function renderInstances(target, s) {
  target.replaceChildren(
    ...s.instances.map((i) => {
      const t = i.traffic;
      const reach = i.reachable === null ? 'not yet contacted' : i.reachable ? 'reachable' : 'unreachable';
      const row = (label, value, field, cls) => [el('dt', {}, label), el('dd', { 'data-field': field, class: cls }, value)];
      return el(
        'article',
        { class: `card ${i.reachable === false ? 'down' : ''}`, 'data-instance': i.id, 'aria-labelledby': `instance-${i.id}` },
        el('h3', { id: `instance-${i.id}` }, `${i.name} (${i.id})`, i.isDefault ? el('span', { class: 'muted' }, ' · default') : '', i.supported ? '' : el('span', { class: 'muted' }, ' · not supported')),
        el(
          'dl',
          {},
          row('Platform', reach, 'reachable', i.reachable === false ? 'bad' : i.reachable ? 'good' : ''),
          row('Session', `${i.session.state}${i.session.expiresAt ? `, expires ${until(i.session.expiresAt, s.generatedAt)}` : ''}`, 'session', i.session.state === 'failed' ? 'bad' : ''),
          row('Identity', i.identity, 'identity', i.identity === 'mismatch' ? 'bad' : ''),
          row('Topology age', s.topology.ageSeconds === null ? '—' : `${s.topology.ageSeconds} s`, 'topology-age'),
          row('Notifications/s', num(t.notificationsPerSecond), 'notifications-per-second'),
          row('Rejections/s', num(t.rejectionsPerSecond), 'rejections-per-second', t.rejectionsPerSecond > 0 ? 'bad' : ''),
          row('Produced/s', num(t.producedPerSecond), 'produced-per-second'),
          row('Produce latency p50 / p99', `${num(t.produceLatencyP50Ms, ' ms')} / ${num(t.produceLatencyP99Ms, ' ms')}`, 'latency'),
          row('Since start', `${t.totals.received} received, ${t.totals.produced} produced, ${t.totals.rejected} rejected`, 'totals'),
          row('Last reconcile', i.reconcile.lastPassAt ? `${i.reconcile.lastPassOk ? 'ok' : 'failed'}, ${ago(i.reconcile.lastPassAt, s.generatedAt)}${i.reconcile.running ? ' (running)' : ''}` : 'none yet', 'last-pass', i.reconcile.lastPassOk === false ? 'bad' : ''),
          i.reconcile.lastError ? row('Reconcile error', i.reconcile.lastError, 'reconcile-error', 'bad') : [],
          // the platform's last error, only while no exchange succeeded after it
          i.lastError && !(i.lastSuccessAt && i.lastSuccessAt > i.lastError.at) ? row('Platform error', `${i.lastError.code}: ${i.lastError.message} (${ago(i.lastError.at, s.generatedAt)})`, 'last-error', 'bad') : [],
        ),
      );
    }),
  );
}

const SIGN = { create: '+', update: '~', delete: '−' };

/** A dry-run plan as a readable diff per instance. */
export function renderPlan(target, plans) {
  const blocks = plans.map((p) => {
    if (p.error) return el('div', { class: 'plan', 'data-instance': p.instanceId }, el('h4', {}, `Instance ${p.instanceId}`), el('p', { class: 'bad' }, `cannot plan: ${p.error}`));
    const lines = p.actions.map((a) => {
      const what =
        a.kind === 'create' ? `create ${a.name} (key v${a.keyVersion}, ${a.typeIds.length} type(s))`
        : a.kind === 'update' ? `update ${a.name}: ${a.changes.join(', ')} (HealthVault id ${a.id})`
        : `delete ${a.id} ${a.url} (${a.reason === 'duplicate' ? `duplicate of ${a.name}` : 'not desired'})`;
      return el('li', { class: `diff ${a.kind}`, 'data-kind': a.kind }, el('span', { class: 'sign', 'aria-hidden': 'true' }, SIGN[a.kind]), ` ${what}`);
    });
    const same = Object.keys(p.inSync);
    if (same.length) lines.push(el('li', { class: 'diff same' }, el('span', { class: 'sign', 'aria-hidden': 'true' }, '='), ` in sync: ${same.join(', ')}`));
    if (p.foreign.length) lines.push(el('li', { class: 'diff same' }, el('span', { class: 'sign', 'aria-hidden': 'true' }, '·'), ` ${p.foreign.length} foreign subscription(s), left alone`));
    return el('div', { class: 'plan', 'data-instance': p.instanceId }, el('h4', {}, `Instance ${p.instanceId}: ${p.actions.length === 0 ? 'nothing to change' : `${p.actions.length} change(s)`}`), el('ul', {}, lines));
  });
  target.hidden = false;
  target.replaceChildren(el('h3', {}, 'Dry-run plan (nothing was changed)'), ...blocks);
}

export function renderReconcile(target, status, body) {
  target.hidden = false;
  if (status === 202) return target.replaceChildren(el('h3', {}, 'Reconcile requested'), el('p', {}, 'This replica does not lead; the leader runs the pass and the matrix shows its result.'));
  target.replaceChildren(
    el('h3', {}, 'Reconcile pass done'),
    el('ul', {}, body.results.map((r) => el('li', { 'data-instance': r.instanceId, class: r.ok ? '' : 'bad' }, `Instance ${r.instanceId}: ${r.ok ? 'ok' : `failed: ${r.error}`} · ${r.applied} change(s) applied of ${r.plan.length} planned`))),
  );
}

export function renderMessage(target, title, text) {
  target.hidden = false;
  target.replaceChildren(el('h3', {}, title), el('p', {}, text));
}
