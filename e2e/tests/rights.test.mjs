// The employee's rights in a real browser against `moonlight demo` (issue
// 15): a reviewer opens a case about an employee, then that employee's "My
// data" page lists their HR facts and expenses and shows that read, by role
// and never by name; the CSV download is a zip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, signOut, BASE } from './browser.mjs';

let b;
let page;
const subject = 'E1020'; // 陈静, a sample case (CITIC Securities dinner), on MS11

before(async () => {
  b = await launch();
  page = await b.context.newPage();
});

after(async () => {
  await b?.close();
});

// signInAs uses the dev sign-in form for someone who is not a persona.
async function signInAs(id) {
  await page.goto(BASE + '/signin');
  await page.selectOption('#subject', id);
  await page.click('form.card.form button[type="submit"]');
  await page.waitForLoadState('domcontentloaded');
  const who = await page.textContent('[data-testid="whoami"]');
  assert.ok(who.includes(id), `signed in as ${who}, wanted ${id}`);
}

test('a reviewer opens a case, so there is a read to show', async () => {
  await signIn(page, 'E1045');
  await page.goto(BASE + '/cases');
  // Reviewers see pseudonyms; run.sh looks E1020's up (SUBJECT_E1020).
  await page.click(`[data-testid="open-case-${process.env.SUBJECT_E1020 || subject}"]`);
  await page.waitForURL(/\/cases\/case-/);
  assert.ok(await page.locator('[data-testid="finding"]').first().isVisible());
  await signOut(page);
});

test("the employee's My data page lists their facts and who read them", async () => {
  await signInAs(subject);
  await page.click('nav >> text=My data');
  await page.waitForURL(/\/my-data$/);
  assert.ok(await page.isVisible('h1:has-text("My data")'));
  const hr = await page.textContent('[data-testid="mydata-hr"]');
  assert.match(hr, /陈静/);
  assert.match(hr, /热管理主管|Thermal Management Lead/); // the sample's HR data is in Chinese, as sent
  assert.match(await page.textContent('[data-testid="mydata-projects"]'), /MS11/);
  assert.ok(await page.locator('[data-testid="mydata-signals"] tbody tr').count() >= 1, 'expense signals are listed');
  const reads = page.locator('[data-testid="mydata-reads"]');
  await reads.waitFor();
  const text = await reads.textContent();
  assert.match(text, /compliance/);
  assert.match(text, /read a review/);
  for (const never of ['E1045', '郑雪']) {
    assert.ok(!text.includes(never), `who read my data names ${never}`);
  }
  // After decision (the default policy): the open case is not shown yet, and the page says so.
  assert.match(await page.textContent('[data-testid="mydata-cases"]'), /not yet decided are not shown/);
  assert.match(await page.textContent('[data-testid="mydata-retention"]'), /Confirmed reviews, after closing\s*60mo/);
  await shot(page, 'rights-01-my-data');

  const res = await page.request.get(BASE + '/my-data/download?format=csv');
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/zip');
  const zip = await res.body();
  assert.equal(zip.subarray(0, 2).toString(), 'PK');

  await page.click('a.lang');
  await page.waitForLoadState('domcontentloaded');
  assert.ok(await page.isVisible('h1:has-text("我的数据")'));
  assert.match(await page.textContent('[data-testid="mydata-reads"]'), /合规/);
  await shot(page, 'rights-02-my-data-zh');
  await page.click('a.lang');
  await page.waitForLoadState('domcontentloaded');
  await signOut(page);
});

test('no page broke its content security policy or threw', () => {
  assert.deepEqual(b.errors, []);
});
