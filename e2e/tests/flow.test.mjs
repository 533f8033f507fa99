// The jobs of the web UI end to end, in a real browser against `moonlight
// demo`: an employee declares a paid seminar talk; their manager approves it;
// a reviewer opens a case from the queue, reads the timeline and clears it;
// the auditor sees those actions. Each step checks the page and saves a
// screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, signOut, isoDay, BASE } from './browser.mjs';

let b;
let page;
const topic = `Paid seminar talk: motor design trends, public material only (${Date.now()})`;

before(async () => {
  b = await launch();
  page = await b.context.newPage();
});

after(async () => {
  await b?.close();
});

test('an employee declares a paid seminar', async () => {
  await signIn(page, 'E1018');
  assert.match(page.url(), /\/declarations$/);
  await page.click('[data-testid="new-declaration"]');
  await page.selectOption('#kind', 'speaking');
  await page.selectOption('#counterparty_type', 'academic');
  await page.fill('#counterparty', '同济大学汽车学院');
  await page.fill('#topic', topic);
  await page.fill('#start_date', isoDay(14));
  await page.check('#paid');
  // Inline validation: the server's rules, shown as the field is left.
  await page.fill('#amount', '15,00');
  await page.locator('#currency').focus();
  const amountError = page.locator('[data-error-for="amount"]');
  await amountError.waitFor({ state: 'visible' });
  assert.match(await amountError.textContent(), /amount like 3000\.00/);
  assert.equal(await page.getAttribute('#amount', 'aria-invalid'), 'true');
  await shot(page, '01-employee-inline-validation');
  await page.fill('#amount', '1500.00');
  await page.fill('#currency', 'CNY');
  await page.locator('#notes').focus();
  await amountError.waitFor({ state: 'hidden' });
  await page.click('[data-testid="submit-declaration"]');
  await page.waitForURL(/\/declarations\/[^/]+\?done=declared\.pending/);
  assert.equal((await page.textContent('[data-testid="decl-status"]')).trim(), 'Pending');
  assert.ok(await page.isVisible('text=Declared. It is waiting for a decision.'));
  assert.ok(await page.isVisible(`text=${topic}`));
  await shot(page, '02-employee-declared');
  await page.click('text=My declarations');
  assert.ok(await page.locator('[data-testid="my-declarations"]').getByText('同济大学汽车学院').first().isVisible());
  await signOut(page);
});

test('the manager approves it', async () => {
  await signIn(page, 'E1011');
  assert.match(page.url(), /\/inbox$/);
  const item = page.locator('[data-testid="inbox-item"]', { hasText: topic });
  await item.waitFor();
  assert.match(await item.textContent(), /韦强/);
  assert.match(await item.textContent(), /Earlier declarations/);
  // No outcome is pre-selected (issue 14): the button says what it does.
  assert.equal(await item.locator('input[type="radio"]:checked').count(), 0);
  await item.locator('textarea[name="comment"]').fill('Fine: a university talk on public material.');
  await item.locator('textarea[name="conditions"]').fill('No discussion of unreleased products\nNo slides from internal documents');
  await shot(page, '03-manager-inbox');
  await item.locator('[data-testid="approve"]').click();
  await page.waitForURL(/\/inbox\?done=decided\.approved/);
  assert.ok(await page.isVisible('p.flash:has-text("Approved.")'));
  assert.equal(await page.locator('[data-testid="inbox-item"]', { hasText: topic }).count(), 0);
  await signOut(page);

  // The employee sees the decision and its conditions.
  await signIn(page, 'E1018');
  await page.click(`a:has-text("同济大学汽车学院") >> nth=0`);
  assert.equal((await page.textContent('[data-testid="decl-status"]')).trim(), 'Approved');
  assert.ok(await page.isVisible('text=No discussion of unreleased products'));
  await shot(page, '04-employee-approved');
  await signOut(page);
});

test('a reviewer opens a case from the queue, reads the timeline and clears it', async () => {
  await signIn(page, 'E1045');
  assert.match(page.url(), /\/cases$/);
  const queue = page.locator('[data-testid="case-queue"]');
  await queue.waitFor();
  await page.selectOption('#f-severity', 'high');
  await page.click('button:has-text("Apply")');
  await page.waitForURL(/severity=high/);
  await shot(page, '05-reviewer-queue');
  // Under pseudonymisation the queue names E1012 by pseudonym (run.sh looks it up).
  await page.click(`[data-testid="open-case-${process.env.SUBJECT_E1012 || 'E1012'}"]`);
  await page.waitForURL(/\/cases\/case-/);
  const timeline = page.locator('[data-testid="timeline"] svg');
  assert.ok(await timeline.isVisible());
  for (const lane of ['Employment', 'Projects', 'Leave', 'Expenses', 'Declarations', 'Findings']) {
    assert.equal(await timeline.locator('text.tl-lane-name', { hasText: lane }).count(), 1, `lane ${lane}`);
  }
  assert.ok(await timeline.locator('.tl-launch').count() >= 1, 'a launch date is on the timeline');
  assert.ok(await timeline.locator('.tl-expense').count() >= 1, 'expenses are on the timeline');
  await page.click('summary:has-text("The timeline as a list")');
  const rows = page.locator('[data-testid="timeline-table"]');
  assert.match(await rows.textContent(), /MS11/);
  assert.match(await rows.textContent(), /中信证券/);
  const finding = page.locator('[data-testid="finding"]').first();
  assert.match(await finding.textContent(), /Expense at a research counterparty/);
  assert.match(await finding.textContent(), /Evidence/);
  await shot(page, '06-reviewer-case');
  await page.fill('#reason', 'E2E review: the seminar fee was refunded and the talk used public material only.');
  await page.click('[data-testid="clear-case"]');
  await page.waitForURL(/done=case\.cleared/);
  assert.equal((await page.textContent('[data-testid="case-status"]')).trim(), 'Cleared');
  assert.match(await page.textContent('[data-testid="case-decision"]'), /E1045/);
  await shot(page, '07-reviewer-cleared');
  await page.goto(BASE + '/dashboard');
  assert.ok(await page.locator('svg.chart').first().isVisible());
  await shot(page, '08-dashboard');
  await signOut(page);
});

test('the auditor sees those actions', async () => {
  await signIn(page, 'E1005');
  assert.match(page.url(), /\/audit$/);
  const log = page.locator('[data-testid="audit-log"]');
  await log.waitFor();
  const text = await log.textContent();
  // Actors stay named; a monitored person acting on their own data (E1018
  // declaring) shows as their pseudonym under pseudonymisation.
  const people = process.env.SUBJECT_E1012 ? ['E1011', 'E1045'] : ['E1018', 'E1011', 'E1045'];
  for (const want of ['disclosure.create', 'disclosure.decide', 'case.read', 'case.decide', ...people]) {
    assert.ok(text.includes(want), `audit log shows ${want}`);
  }
  await page.fill('#a-actor', 'E1045');
  await page.selectOption('#a-action', 'case.decide');
  await page.click('button:has-text("Apply")');
  await page.waitForURL(/action=case\.decide/);
  const filtered = await page.locator('[data-testid="audit-log"]').textContent();
  assert.match(filtered, /E2E review: the seminar fee was refunded/);
  assert.ok(filtered.includes(process.env.SUBJECT_E1012 || 'E1012'), 'the decided case\'s owner');
  await shot(page, '09-auditor-log');
  // The same page in Chinese.
  await page.click('a.lang');
  await page.waitForLoadState('domcontentloaded');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hans');
  assert.ok(await page.isVisible('h1:has-text("审计日志")'));
  await shot(page, '10-auditor-log-zh');
  await page.click('a.lang');
});

test('no page broke its content security policy or threw', () => {
  assert.deepEqual(b.errors, []);
});
