// A real headless Chromium for browser tests: Debian's `chromium` package (.ci/run installs it;
// playwright's own browser downloads are not used), driven by playwright-core over CDP, with a
// fresh profile per test. A missing browser fails the test with what to install: never a skip.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = new URL('../../.cache/screenshots/', import.meta.url);

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function openBrowser(t: Test, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get update && apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  const profile = mkdtempSync(join(tmpdir(), 'hvg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, timeout: 60_000 });
  context.setDefaultTimeout(20_000);
  t.teardown(async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** Saves .cache/screenshots/<name>.png (git-ignored) for a person to look at; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOTS).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Runs in the page: every visible text element's contrast against its effective background
// (WCAG 2 relative luminance; the nearest ancestor with an opaque background), and every control
// without an accessible name. Plain JS in a string: the test tsconfig has no DOM types.
const AUDIT = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] === 1) return c.slice(0, 3); } return [255, 255, 255]; };
  const problems = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility() || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(bg(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" contrast ' + ratio.toFixed(2));
  }
  for (const el of document.querySelectorAll('button, input, select, textarea')) {
    if (!el.checkVisibility()) continue;
    const name = el.getAttribute('aria-label') || (el.labels && [...el.labels].map((l) => l.textContent).join('')) || (el.tagName === 'BUTTON' ? el.textContent : '');
    if (!name || !name.trim()) problems.push(el.tagName + '#' + el.id + ' has no accessible name');
  }
  return problems;
})()`;

/** Contrast below WCAG AA (4.5:1) and unnamed controls on the page as it is now. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(AUDIT) as Promise<string[]>;
}
