// Issue 16: the operator console in a real headless Chromium against the real app, the simulator
// (US "1", EU "2") and the real broker. Screenshots go to .cache/screenshots/ (git-ignored).
import t from 'tap';
import { request } from 'undici';
import { ADMIN_TOKEN } from '../helpers/env.ts';
import { accessibilityProblems, openBrowser, screenshot } from '../helpers/browser.ts';
import { eventually, GLUCOSE, ours, PUBLIC_BASE, startGateway, startSim, WEIGHT } from '../helpers/stack.ts';

const cell = (name: string, instance: string) => `td[data-subscription="${name}"][data-instance="${instance}"]`;
const field = (instance: string, f: string) => `article[data-instance="${instance}"] [data-field="${f}"]`;

t.test('the console shows the matrix, drift and its repair, the traffic, and refuses a wrong token', async (t) => {
  const context = await openBrowser(t); // first: without Chromium the test fails at once, saying what to install
  const sim = await startSim(t);
  // one platform attempt per call, so a failing instance shows up at once
  const gw = await startGateway(t, sim, { HV_MAX_RETRIES: '0', HV_REQUEST_TIMEOUT_MS: '3000' });
  for (const [name, typeIds] of [['glucose', [GLUCOSE]], ['weight', [WEIGHT]]] as const) t.equal((await gw.admin('PUT', `/v1/subscriptions/${name}`, { typeIds })).status, 201);
  sim.instance('1').createSubscription({ appId: '7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13', url: `${PUBLIC_BASE}/legacy-handler`, keyVersionId: 'k1', typeIds: [[GLUCOSE]] });
  await gw.admin('POST', '/v1/reconcile'); // records the foreign subscription
  await eventually('in sync', () => gw.admin('GET', '/v1/consistency'), (r) => r.json.consistent === true && r.json.summary['in-sync'] === 4);

  const page = await context.newPage();
  const consoleUrl = `${gw.adminUrl}/console?refresh=1`;

  // a wrong token: a clear message, the token is forgotten, the form asks again
  await page.goto(`${consoleUrl}#token=not-the-token`);
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: 'admin token was refused' }).waitFor();
  t.match(await alert.textContent(), /HVG_ERR_UNAUTHORIZED.*ADMIN_TOKENS/, 'the message says what is wrong and what to enter');
  t.notMatch(page.url(), /#|token/, 'the fragment is wiped from the address bar');
  t.equal(await page.evaluate('sessionStorage.length'), 0, 'the refused token is not kept');
  await page.getByLabel('Admin token').waitFor();
  await screenshot(page, 'console-wrong-token');
  t.same(await accessibilityProblems(page), [], 'the login: AA contrast, every control named');

  // the token through the form: the matrix shows both instances in sync
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Connect' }).click();
  for (const name of ['glucose', 'weight']) for (const id of ['1', '2']) await page.locator(`${cell(name, id)}[data-state="in-sync"]`).waitFor();
  t.match(await page.locator(cell('glucose', '2')).textContent(), /in sync.*key v1/, 'a cell shows state and key version');
  t.match(await page.locator('#foreign').textContent(), /instance 1.*legacy-handler/, 'the foreign subscription is listed apart');
  t.match(await page.locator('th[data-instance="2"]').textContent(), /\(2\)/, 'one column per instance');
  t.same(await context.cookies(), [], 'no cookie is ever set');

  // the token through the fragment (scripted use) in a second tab: used, then gone from the URL
  const scripted = await context.newPage();
  await scripted.goto(`${consoleUrl}#token=${ADMIN_TOKEN}`);
  await scripted.locator(`${cell('glucose', '1')}[data-state="in-sync"]`).waitFor();
  t.notMatch(scripted.url(), /token/, 'the fragment token is removed at once');
  await scripted.close();

  // traffic: 0/s while nothing comes; then the simulator sends notifications from US, and a forged one is refused
  const rate = async (f: string) => Number((await page.locator(field('1', f)).textContent()) ?? NaN);
  await eventually('a quiet window first', () => rate('notifications-per-second'), (v) => v === 0);
  const person = sim.instance('1').createPerson();
  for (let i = 0; i < 20; i++) sim.instance('1').addThing(person.recordId, GLUCOSE);
  const forged = await request(`${gw.url}/notifications/1/glucose`, { method: 'POST', body: '<x/>', headers: { authorization: 'HVEventingSharedKey 00000000-0000-0000-0000-000000000000:v1:AAAA' } });
  await forged.body.dump();
  t.equal(forged.statusCode, 401);
  await eventually('notifications/s moves', () => rate('notifications-per-second'), (v) => v > 0);
  await eventually('produced/s moves', () => rate('produced-per-second'), (v) => v > 0);
  await eventually('rejections/s moves', () => rate('rejections-per-second'), (v) => v > 0);
  await page.locator(field('1', 'latency')).filter({ hasText: /^\d[\d.]* ms \/ \d[\d.]* ms$/ }).waitFor(); // produce latency p50 / p99
  t.match(await page.locator(field('1', 'session')).textContent(), /^active/, 'session state shown');
  t.match(await page.locator(field('1', 'topology-age')).textContent(), /^\d+ s$/, 'topology age shown');
  await screenshot(page, 'console-traffic');

  // drift made in the simulator: our subscription vanishes from EU; the dry run shows it as a diff
  sim.instance('2').deleteSubscription(ours(sim, '2').find((s) => s.url.endsWith('/glucose'))!.id);
  await page.getByRole('button', { name: 'Dry-run plan…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Show the plan' }).click();
  const create = page.locator('#action-result .plan[data-instance="2"] li[data-kind="create"]');
  await create.waitFor();
  t.match(await create.textContent(), /create glucose/, 'the plan shows the missing subscription as a create in EU');
  t.match(await page.locator('#action-result .plan[data-instance="1"]').textContent(), /nothing to change/);
  t.equal(ours(sim, '2').length, 1, 'a dry run changes nothing');

  // EU fails while we reconcile: the cell turns to error, with the error on click
  sim.instance('2').setFaults({ platform5xx: true });
  await page.getByRole('button', { name: 'Reconcile now…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reconcile now' }).click();
  await page.locator(`${cell('glucose', '2')}[data-state="error"]`).waitFor();
  t.match(await page.locator(cell('glucose', '1')).getAttribute('data-state'), 'in-sync', 'US is unaffected');
  await page.locator(`${cell('glucose', '2')} button`).click();
  t.match(await page.locator('#cell-detail [data-field="last-error"]').textContent(), /cannot list subscriptions/, 'the last error is shown on click');
  t.match(await page.locator(`${cell('glucose', '2')} button`).getAttribute('title'), /cannot list subscriptions/, 'and on hover');
  await page.locator(`${field('2', 'last-pass')}`).filter({ hasText: 'failed' }).waitFor();
  await screenshot(page, 'console-drift');
  t.same(await accessibilityProblems(page), [], 'with errors, a plan and details open: AA contrast, every control named');

  // EU is back: "reconcile now" (keyboard only) repairs it and the cell turns back to in-sync
  sim.instance('2').setFaults({ platform5xx: false });
  await page.getByRole('button', { name: 'Reconcile now…' }).focus();
  await page.keyboard.press('Enter');
  t.equal(await page.evaluate('document.activeElement?.textContent'), 'Cancel', 'the dialog opens with the safe choice focused');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator(`${cell('glucose', '2')}[data-state="in-sync"]`).waitFor();
  t.equal(ours(sim, '2').filter((s) => s.url.endsWith('/glucose')).length, 1, 'recreated in EU');
  await page.locator('#cell-detail [data-field="state"]').filter({ hasText: 'in sync' }).waitFor(); // the open details follow the data

  // keyboard focus survives the refreshes that re-render the matrix; Enter opens a cell's details
  await page.locator(`${cell('weight', '1')} button`).focus();
  const shown = await page.locator('#freshness').textContent();
  await page.locator('#freshness').filter({ hasNotText: shown! }).waitFor(); // a refresh happened
  t.equal(await page.evaluate('document.activeElement?.getAttribute("data-key")'), 'cell/weight/1', 'focus kept on the same cell');
  await page.keyboard.press('Enter');
  await page.locator('#cell-detail h3').filter({ hasText: 'weight in instance 1' }).waitFor();

  // rotate key behind a confirmation; Escape cancels, confirming rotates
  const rotate = page.getByRole('button', { name: 'Rotate the key of weight' });
  await rotate.click();
  await page.keyboard.press('Escape');
  t.equal((await gw.admin('GET', '/v1/subscriptions/weight')).json.keyVersion, 1, 'cancelled: nothing rotated');
  await rotate.click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate key' }).click();
  for (const id of ['1', '2']) await page.locator(`${cell('weight', id)}[data-state="in-sync"]`).filter({ hasText: 'key v2' }).waitFor();
  await screenshot(page, 'console');
  t.same(await accessibilityProblems(page), [], 'in sync: AA contrast, every control named');

  // a phone: nothing wider than the screen (the matrix scrolls inside its own region)
  await page.setViewportSize({ width: 390, height: 844 });
  t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling of the page at 390 px');
  await screenshot(page, 'console-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // the gateway goes away: the page says so and keeps the last data
  await gw.app.close();
  await page.getByRole('alert').filter({ hasText: 'unreachable' }).waitFor();
  await page.locator('#freshness').filter({ hasText: 'Gateway unreachable' }).waitFor();
  t.equal(await page.locator(cell('glucose', '1')).getAttribute('data-state'), 'in-sync', 'the last data stays visible');
  await screenshot(page, 'console-unreachable');
});
