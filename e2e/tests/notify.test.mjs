// Notifications in the demo: the sample story's declarations and cases sent
// mails (to approvers, employees and the compliance on-duty list); the
// demo's SMTP sink received them and an admin reads them on /admin/mail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, signOut, BASE } from './browser.mjs';

let b;
let page;

before(async () => {
  b = await launch();
  page = await b.context.newPage();
});

after(async () => {
  await b?.close();
});

test('an admin reads the mails the sample story sent', async () => {
  await signIn(page, 'E1090');
  // The dispatcher sends within seconds of the sample loading; wait for it.
  let rows = 0;
  for (let i = 0; i < 30 && rows < 3; i++) {
    await page.goto(BASE + '/admin/mail');
    rows = await page.locator('[data-testid="mail"]').count();
    if (rows < 3) await page.waitForTimeout(1000);
  }
  assert.ok(rows >= 3, `only ${rows} mails on /admin/mail`);
  const table = page.locator('[data-testid="mails"]');
  // The on-duty compliance officer (Chinese profile) was told of new cases;
  // an employee was told of their decided declaration (English).
  assert.ok(await table.getByText('zheng.xue@').first().isVisible());
  assert.ok((await table.getByText(/新案件|升为高/).count()) > 0, 'no Chinese case notice');
  assert.ok((await table.getByText(/Your declaration was (approved|rejected)/).count()) > 0, 'no decision notice');
  const first = page.locator('[data-testid="mail"] details').first();
  await first.locator('summary').click();
  assert.match(await first.locator('pre').textContent(), /http:\/\/127\.0\.0\.1:\d+\//);
  await shot(page, 'notify-01-admin-mail');
  await signOut(page);
});
