// The launch workflow in a real browser against `moonlight demo`: an
// employee on the confidential MS11 project attests on "My tasks"; the
// compliance officer opens the sample leak incident and reads its
// back-trace (E1012 first, with the brokerage seminar in the explanation);
// the insider list of MS11 is one click away. Screenshots go to test-output/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, signOut } from './browser.mjs';

let b;
let page;

before(async () => {
  b = await launch();
  page = await b.context.newPage();
});

after(async () => {
  await b?.close();
});

test('an employee on MS11 attests on My tasks', async () => {
  await signIn(page, 'E1011');
  await page.click('nav >> text=My tasks');
  await page.waitForURL(/\/tasks$/);
  const task = page.locator('[data-testid="attestation"]', { hasText: 'MS11' }).first();
  await task.waitFor();
  assert.equal((await task.getAttribute('data-status')), 'pending');
  assert.match(await task.locator('[data-testid="blackout"]').textContent(), /\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}/);
  await shot(page, 'launch-01-my-tasks');
  await task.locator('[data-testid="q-engagements_declared"]').check();
  await task.locator('[data-testid="q-blackout_known"]').check();
  await task.locator('[data-testid="q-nda_held"]').check();
  await task.locator('[data-testid="attest"]').click();
  await page.waitForURL(/\/tasks\?done=attested/);
  assert.ok(await page.isVisible('text=Attested. Thank you.'));
  const done = page.locator('[data-testid="attestation"]', { hasText: 'MS11' }).first();
  assert.equal(await done.getAttribute('data-status'), 'done');
  assert.ok(await done.locator('[data-testid="attested"]').isVisible());
  await shot(page, 'launch-02-attested');
  assert.deepEqual(b.errors, []);
  await signOut(page);
});

test('compliance reads the back-trace of the MS11 leak', async () => {
  await signIn(page, 'E1045');
  await page.click('nav >> text=Incidents');
  await page.waitForURL(/\/incidents$/);
  const row = page.locator('[data-testid="incident"]', { hasText: 'MS11' }).first();
  await row.waitFor();
  await shot(page, 'launch-03-incidents');
  await row.locator('[data-testid="open-backtrace"]').click();
  await page.waitForURL(/\/incidents\/inc-/);
  assert.ok(await page.isVisible('[data-testid="not-accusation"]'));
  const items = page.locator('[data-testid="bt-item"]');
  assert.ok((await items.count()) >= 8, 'insiders and partner contacts are listed');
  const top = items.first();
  const topScore = Number(await top.locator('[data-testid="bt-score"]').textContent());
  const second = Number(await items.nth(1).locator('[data-testid="bt-score"]').textContent());
  assert.ok(topScore > second, `top ${topScore} should be above ${second}`);
  assert.match(await top.textContent(), /brokerage \(中信证券\)|brokerage \(国泰君安证券\)/);
  assert.match(await top.textContent(), /Tied to a seminar on the topic/);
  assert.match(await page.textContent('[data-testid="backtrace"]'), /no valid NDA/);
  await shot(page, 'launch-04-backtrace');
  await page.goto(new URL('/projects/MS11/insiders', page.url()).toString());
  assert.ok((await page.locator('[data-testid="insider"]').count()) >= 7);
  await shot(page, 'launch-05-insiders');
  assert.deepEqual(b.errors, []);
  await signOut(page);
});
