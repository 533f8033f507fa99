// A Chinese-speaking reviewer in London: they choose Chinese and their time
// zone on the profile page (stored server-side), then read cases. The case
// pages must hold no English sentence (data shown as given is marked
// translate="no", ids and codes aside) and every time must name its zone.
// The profile is reset at the end, so later steps see the defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, signIn, BASE } from './browser.mjs';

let b;
let page;

before(async () => {
  b = await launch();
  page = await b.context.newPage();
});

after(async () => {
  await b?.close();
});

async function saveProfile(lang, zone) {
  await page.goto(BASE + '/profile');
  await page.selectOption('#p-lang', lang);
  await page.selectOption('#p-zone', zone);
  await page.click('[data-testid="profile-form"] button[type="submit"]');
  await page.waitForURL(/\/profile\?done=profile\.saved/);
}

// englishSentences lists runs of three Latin words in the page's main text,
// leaving out data marked translate="no", code, and the ids, codes and zone
// names the page shows on purpose.
async function englishSentences() {
  return page.evaluate(() => {
    const main = document.querySelector('main').cloneNode(true);
    main.querySelectorAll('[translate="no"], code, svg, script, style').forEach((n) => n.remove());
    const text = main.textContent
      .replace(/\b(case-[0-9a-f]+|E\d{4}|P-[0-9A-Z]{4}|CST|GMT|BST|UTC|Asia\/Shanghai|Europe\/London|Moonlight|CNY|USD|YYYY-MM-DD)\b/g, ' ');
    return text.match(/\b[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){2,}\b/g) || [];
  });
}

test('a reviewer reads cases in Chinese, with times in their zone named', async () => {
  await signIn(page, 'E1045');
  try {
    await saveProfile('zh-Hans', 'Europe/London');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hans');
    assert.match(await page.textContent('[data-testid="profile-now"]'), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} (GMT|BST) \(Europe\/London\)$/);
    await shot(page, 'i18n-01-profile-zh');

    await page.goto(BASE + '/cases?status=');
    const links = await page.locator('[data-testid^="open-case-"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.length >= 3, `cases in the queue: ${links.length}`);
    for (const [i, href] of links.slice(0, 8).entries()) {
      await page.goto(BASE + href);
      const english = await englishSentences();
      assert.deepEqual(english, [], `${href}: English on the Chinese case page`);
      const explanation = await page.textContent('[data-testid="explanation"]');
      assert.match(explanation, /\p{Script=Han}/u, `${href}: the explanation is in Chinese`);
      assert.doesNotMatch(explanation, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, `${href}: a raw UUID`);
      const times = await page.locator('main').textContent();
      assert.match(times, /\d{4}-\d{2}-\d{2} \d{2}:\d{2} (GMT|BST) \(Europe\/London\)/, `${href}: times name the zone`);
      assert.doesNotMatch(times, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?! (GMT|BST|CST|UTC))/, `${href}: a time without its zone`);
      assert.match(await page.textContent('[data-testid="viewer-zone"]'), /Europe\/London/);
      if (i === 0) await shot(page, 'i18n-02-case-zh-london');
    }
  } finally {
    // Back to the defaults (English, the business zone) for the steps after.
    await saveProfile('en', '');
  }
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('[data-testid="profile-now"]'), /CST \(Asia\/Shanghai\)$/);
});
