// Launches Debian's chromium through playwright-core (no browser download)
// with a fresh profile, and offers the helpers the tests share.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';
export const SHOTS = process.env.SCREENSHOTS || path.resolve('..', 'test-output', 'e2e');

export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(15000);
  const errors = [];
  context.on('page', (p) => watch(p, errors));
  for (const p of context.pages()) watch(p, errors);
  return {
    context,
    errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// watch records what a page should never do: CSP violations, script errors.
function watch(page, errors) {
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

// signIn uses a sample person's one-click sign-in on the dev sign-in page.
export async function signIn(page, id) {
  await page.goto(BASE + '/signin');
  await page.click(`[data-testid="persona-${id}"]`);
  await page.waitForLoadState('domcontentloaded');
  const who = await page.textContent('[data-testid="whoami"]');
  if (!who.includes(id)) throw new Error(`signed in as ${who}, wanted ${id}`);
}

export async function signOut(page) {
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(/\/signin/);
}

export function isoDay(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return d.toISOString().slice(0, 10);
}
