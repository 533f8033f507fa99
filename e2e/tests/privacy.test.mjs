// Issue 15 in a real browser against `moonlight demo` (privacy.unmask:
// two_person): a reviewer works the queue and a case without ever seeing a
// monitored person's name or employee id; asks to unmask one case with a
// reason; a privacy officer approves; the reviewer then sees the name with
// the grant's end; the auditor's log shows both steps. Screenshots go to
// test-output/e2e/privacy-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, signOut, BASE } from './browser.mjs';

const REVIEWER = 'E1045';
const OFFICER = 'E1006';
const AUDITOR = 'E1005';
const reason = `E2E: interview with the employee about the expense (${Date.now()})`;

let b;
let page;
let roster = []; // [{id, name}] of every sample employee, from the dev sign-in list
let casePath = '';
let subject = '';

before(async () => {
  b = await launch();
  page = await b.context.newPage();
  await page.goto(BASE + '/signin');
  const options = await page.locator('#subject option').allTextContents();
  roster = options
    .map((o) => o.split(' · '))
    .filter((p) => /^E\d+$/.test(p[0]))
    .map((p) => ({ id: p[0], name: p[1] }));
  assert.ok(roster.length > 20, `the sign-in list has the sample employees (${roster.length})`);
});

after(async () => {
  await b?.close();
});

// identities lists the monitored people (everyone but the acting staff)
// whose name or employee id the page's main content shows.
async function identities(except = []) {
  const text = await page.locator('main').innerText();
  const found = [];
  for (const p of roster) {
    if (except.includes(p.id)) continue;
    if (p.name && p.name.length >= 2 && text.includes(p.name)) found.push(p.name);
    if (new RegExp(`\\b${p.id}\\b`).test(text)) found.push(p.id);
  }
  return found;
}

const staff = [REVIEWER, OFFICER, AUDITOR];

test('a reviewer works the queue and a case seeing only pseudonyms', async () => {
  await signIn(page, REVIEWER);
  await page.goto(BASE + '/cases?status=');
  const queue = page.locator('[data-testid="case-queue"]');
  await queue.waitFor();
  assert.deepEqual(await identities(staff), [], 'the queue names nobody');
  const first = page.locator('a[data-testid^="open-case-P-"]').first();
  subject = (await first.getAttribute('data-testid')).replace('open-case-', '');
  assert.match(subject, /^P-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await shot(page, 'privacy-01-queue-pseudonyms');
  // The queue can be searched by nothing but what it shows: open the case.
  await first.click();
  await page.waitForURL(/\/cases\/case-/);
  casePath = new URL(page.url()).pathname;
  assert.equal((await page.textContent('[data-testid="case-subject"]')).trim(), subject);
  await page.click('summary:has-text("The timeline as a list")');
  assert.deepEqual(await identities(staff), [], 'the case page names nobody, evidence and timeline included');
  await shot(page, 'privacy-02-case-pseudonymised');
  await page.fill('#ureason', reason);
  await page.click('[data-testid="unmask"]');
  await page.waitForURL(/done=case\.unmask\.requested/);
  assert.ok(await page.isVisible('[data-testid="unmask-pending"]'));
  assert.equal((await page.textContent('[data-testid="case-subject"]')).trim(), subject, 'still masked while pending');
  assert.deepEqual(await identities(staff), []);
  await shot(page, 'privacy-03-unmask-requested');
  await signOut(page);
});

test('a privacy officer approves the request', async () => {
  await signIn(page, OFFICER);
  await page.goto(BASE + '/privacy/unmask-requests');
  const row = page.locator('[data-testid="unmask-request"]', { hasText: reason });
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(subject));
  assert.match(await row.textContent(), new RegExp(REVIEWER));
  await row.locator('textarea[name="comment"]').fill('Approved for the interview.');
  await shot(page, 'privacy-04-officer-pending');
  await row.locator('[data-testid="approve-unmask"]').click();
  await page.waitForURL(/done=unmask\.approve/);
  assert.equal(await page.locator('[data-testid="unmask-request"]', { hasText: reason }).count(), 0);
  await shot(page, 'privacy-05-officer-approved');
  await signOut(page);
});

test('the reviewer now sees the name, until the grant ends', async () => {
  await signIn(page, REVIEWER);
  await page.goto(BASE + casePath);
  assert.ok(await page.isVisible('[data-testid="unmask-granted"]'));
  const name = (await page.textContent('[data-testid="case-subject"]')).trim();
  assert.notEqual(name, subject);
  assert.ok(roster.some((p) => p.name === name), `${name} is a sample employee's name`);
  await shot(page, 'privacy-06-reviewer-unmasked');
  await signOut(page);
});

test('the audit log shows both steps, with the actors named', async () => {
  await signIn(page, AUDITOR);
  await page.goto(BASE + '/audit?resource_id=' + casePath.split('/').pop());
  const log = page.locator('[data-testid="audit-log"]');
  await log.waitFor();
  const text = await log.textContent();
  for (const want of ['unmask.request', REVIEWER, subject, reason]) {
    assert.ok(text.includes(want), `the case's audit trail shows ${want}`);
  }
  await page.goto(BASE + '/audit?action=unmask.decide');
  const decided = await page.locator('[data-testid="audit-log"]').textContent();
  assert.ok(decided.includes(OFFICER) && decided.includes(subject), 'the approval is logged with the officer and the pseudonym');
  assert.deepEqual(await identities(staff), [], 'the audit log names no monitored person');
  await shot(page, 'privacy-07-audit-both-steps');
  await signOut(page);
});

test('no page broke its content security policy or threw', () => {
  assert.deepEqual(b.errors, []);
});
