// The console's wiring: token handling, the refresh loop (re-armed after each answer, never
// overlapping), the stale/unreachable indication and the confirmed actions.
import { api, ApiError, clearToken, getToken, setToken, takeTokenFromFragment } from './api.js';
import { renderCellDetail, renderForeign, renderInstances, renderMatrix, renderMessage, renderPlan, renderReconcile, renderSummary } from './render.js';

takeTokenFromFragment(); // first: the token must not stay in the address bar

const $ = (id) => document.getElementById(id);
// ?refresh=<seconds> (1–60), default 5
const refreshSeconds = Math.min(60, Math.max(1, Number(new URLSearchParams(location.search).get('refresh')) || 5));
let last = null; // last good status
let lastOkAt = 0;
let failingSince = 0;
let timer;
let busy = false;
let selected = null; // { name, instanceId } of the cell whose details are open

function showAlert(text) {
  const a = $('alert');
  a.textContent = text;
  a.hidden = !text;
}

function showLogin(message) {
  $('login').hidden = false;
  $('main').hidden = last === null;
  $('forget').hidden = true;
  $('freshness').textContent = 'Not connected';
  document.body.classList.remove('stale');
  if (message) showAlert(message);
  $('token').focus();
}

function freshness() {
  if (last === null) return;
  const age = Math.round((Date.now() - lastOkAt) / 1000);
  const stale = age > refreshSeconds * 3;
  document.body.classList.toggle('stale', stale || failingSince > 0);
  const when = new Date(lastOkAt).toLocaleTimeString();
  $('freshness').textContent = failingSince > 0 ? `Gateway unreachable — showing data from ${when} (${age} s old)` : stale ? `Stale: last update ${when} (${age} s ago)` : `Updated ${when} · every ${refreshSeconds} s`;
}

function render(s) {
  // re-rendering replaces the matrix buttons: keep the keyboard focus where it was
  const focusKey = document.activeElement?.getAttribute('data-key');
  renderSummary($('summary'), s);
  renderMatrix($('matrix'), s, {
    onCell: (sub, c) => {
      selected = { name: sub.name, instanceId: c.instanceId };
      renderCellDetail($('cell-detail'), sub, c, s.generatedAt);
    },
    onRotate: (sub) => rotate(sub),
  });
  // the open details follow the data; they close when that cell is gone
  const sub = selected && s.subscriptions.find((x) => x.name === selected.name);
  const c = sub && sub.cells.find((x) => x.instanceId === selected.instanceId);
  if (c) renderCellDetail($('cell-detail'), sub, c, s.generatedAt);
  else $('cell-detail').hidden = true;
  renderForeign($('foreign'), s);
  renderInstances($('instances'), s);
  if (focusKey) document.querySelector(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
}

let inflight = null;
let again = false;
/** One refresh at a time: a call during one makes exactly one more afterwards. */
function refresh() {
  if (inflight) {
    again = true;
    return inflight;
  }
  inflight = load().finally(() => {
    inflight = null;
    if (again) {
      again = false;
      void refresh();
    }
  });
  return inflight;
}

async function load() {
  clearTimeout(timer);
  if (getToken() === null) return showLogin();
  if (!document.hidden || last === null) {
    try {
      const { body } = await api('GET', 'v1/status');
      last = body;
      lastOkAt = Date.now();
      failingSince = 0;
      showAlert('');
      $('login').hidden = true;
      $('main').hidden = false;
      $('forget').hidden = false;
      render(body);
    } catch (err) {
      if (!handleAuth(err)) {
        if (failingSince === 0) failingSince = Date.now();
        const e = err instanceof ApiError ? err : new ApiError(0, 'UNREACHABLE', String(err));
        showAlert(e.status === 0 ? `The gateway is unreachable: ${e.message}. Retrying every ${refreshSeconds} s.` : `The gateway answered ${e.status} ${e.code}: ${e.message}`);
      }
    }
  }
  freshness();
  clearTimeout(timer);
  if (getToken() !== null) timer = setTimeout(refresh, refreshSeconds * 1000);
}

/** 401: the token is wrong (or was rotated away); forget it and ask again with a clear message. */
function handleAuth(err) {
  if (!(err instanceof ApiError) || err.status !== 401) return false;
  clearToken();
  last = null; // nothing stays on screen without a valid token
  showLogin(`The admin token was refused (${err.code}): ${err.message}. Enter one of the gateway's ADMIN_TOKENS.`);
  return true;
}

/** A modal confirmation (native <dialog>: focus is trapped, Escape cancels). */
function confirmAction(title, text, okLabel) {
  const d = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    const done = (v) => {
      $('confirm-ok').onclick = $('confirm-cancel').onclick = d.oncancel = null;
      if (d.open) d.close();
      resolve(v);
    };
    $('confirm-ok').onclick = () => done(true);
    $('confirm-cancel').onclick = () => done(false);
    d.oncancel = () => done(false);
    d.showModal();
    $('confirm-cancel').focus(); // the safe choice has the focus
  });
}

async function act(label, fn) {
  if (busy) return;
  busy = true;
  document.body.classList.add('busy');
  renderMessage($('action-result'), label, 'Working…');
  try {
    await fn();
  } catch (err) {
    if (!handleAuth(err)) renderMessage($('action-result'), `${label} failed`, err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
  } finally {
    busy = false;
    document.body.classList.remove('busy');
    await refresh();
  }
}

async function reconcile() {
  if (!(await confirmAction('Reconcile now?', 'Runs a pass over every instance now: creates, updates or deletes the gateway\'s own subscriptions until each instance matches the desired set. Foreign subscriptions are never touched.', 'Reconcile now'))) return;
  await act('Reconcile', async () => {
    const { status, body } = await api('POST', 'v1/reconcile', { timeoutMs: 180_000 });
    renderReconcile($('action-result'), status, body);
  });
}

async function dryRun() {
  if (!(await confirmAction('Compute the plan?', 'Lists the subscriptions of every instance and shows what a pass would change. Nothing is changed.', 'Show the plan'))) return;
  await act('Dry-run plan', async () => {
    const { body } = await api('POST', 'v1/reconcile?dryRun=true', { timeoutMs: 180_000 });
    renderPlan($('action-result'), body.plans);
  });
}

async function rotate(sub) {
  const text = `Registers key v${sub.keyVersion + 1} for "${sub.name}" in every instance. Notifications signed with v${sub.keyVersion} stay accepted in each instance until it has confirmed the new key and KEY_RETRY_HORIZON_MS has passed.`;
  if (!(await confirmAction(`Rotate the key of ${sub.name}?`, text, 'Rotate key'))) return;
  await act('Rotate key', async () => {
    const { body } = await api('POST', `v1/subscriptions/${encodeURIComponent(sub.name)}/rotate-key`, { headers: { 'if-match': sub.etag } });
    renderMessage($('action-result'), 'Key rotated', `${body.name}: key v${body.previousKeyVersion} → v${body.keyVersion}. The matrix shows each instance as pending until the new key is registered there.`);
  });
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value;
  if (!token.trim()) return showLogin('Enter the admin token.');
  setToken(token);
  $('token').value = '';
  showAlert('');
  void refresh();
});
$('forget').addEventListener('click', () => {
  clearToken();
  clearTimeout(timer);
  last = null;
  $('main').hidden = true;
  showLogin('Token forgotten for this tab.');
});
$('reconcile').addEventListener('click', () => void reconcile());
$('dry-run').addEventListener('click', () => void dryRun());
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh();
});
setInterval(freshness, 1000); // the "stale" indication must move even when requests hang
void refresh();
