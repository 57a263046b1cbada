#!/usr/bin/env node
// End-to-end test of the live page in headless Chromium (driven by playwright-core, the system
// chromium, never a browser download):
//
//   node live-e2e.js BASE_URL OUT.png [USER_ID]
//
// 1. opens BASE_URL/users, creates (or picks) a user through the form: a signed session cookie;
// 2. on the user's page, waits for the "Recommended for you" panel (#recommendations) to show
//    the first list, streamed over Server-Sent Events;
// 3. likes two products (the first two `button.like` on the page) and waits until the panel has
//    changed without a reload: its list of ASINs differs and `data-updates` has grown;
// 4. writes a screenshot to OUT.png and prints one JSON line with what it saw and the timings.
// Exits non-zero (with the reason) when any step fails or the update takes over 2 seconds.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const LIMIT_MS = 2000;

async function main() {
  const [base, out, userArg] = process.argv.slice(2);
  if (!base || !out) {
    console.error('usage: live-e2e.js BASE_URL OUT.png [USER_ID]');
    process.exit(2);
  }
  const user = userArg || `e2e-${Date.now()}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const result = { user, ok: false };
  try {
    const page = context.pages()[0] || (await context.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/users`);
    await page.fill('input[name="id"]', user);
    const name = await page.$('input[name="name"]');
    if (name) await name.fill(`E2E ${user}`);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/session"] button[type="submit"], form[action="/session"] input[type="submit"]')]);
    if (!page.url().includes(`/users/${user}`)) {
      await page.goto(`${base}/users/${user}`);
    }
    const panel = '#recommendations';
    await page.waitForSelector(`${panel} li.rec`, { timeout: 10000 });
    const listOf = () => page.$$eval(`${panel} li.rec`, (els) => els.map((e) => e.dataset.asin));
    const updatesOf = () => page.$eval(panel, (e) => Number(e.dataset.updates || 0));
    // The page is never reloaded: a marker on window survives only without a reload.
    await page.evaluate(() => { window.__noReload = true; });
    const before = await listOf();
    const updatesBefore = await updatesOf();
    result.before = before;
    // Like the first recommended product, then (after the panel has changed) the first one
    // of the new list: each like is a product the page shows at that moment.
    const liked = [];
    const timings = [];
    for (let i = 0; i < 2; i++) {
      const candidates = await page.$$eval(`${panel} button.like[data-asin]`, (els) => els.map((e) => e.dataset.asin));
      const asin = candidates.find((a) => !liked.includes(a));
      if (!asin) throw new Error(`no like button in the panel (like ${i + 1})`);
      liked.push(asin);
      const n = await updatesOf();
      const start = Date.now();
      await page.click(`${panel} button.like[data-asin="${asin}"]`);
      await page.waitForFunction(
        ([sel, n]) => Number(document.querySelector(sel).dataset.updates || 0) > n,
        [panel, n],
        { timeout: 5000 },
      );
      timings.push(Date.now() - start);
    }
    result.liked = liked;
    result.like_to_update_ms = timings;
    const after = await listOf();
    result.after = after;
    result.updates = (await updatesOf()) - updatesBefore;
    result.reloaded = !(await page.evaluate(() => window.__noReload === true));
    result.page_errors = errors;
    await page.screenshot({ path: out, fullPage: true });
    const changed = JSON.stringify(before) !== JSON.stringify(after);
    const slow = timings.filter((t) => t > LIMIT_MS);
    if (!changed) throw new Error('the recommendations panel did not change');
    if (result.reloaded) throw new Error('the page was reloaded');
    if (liked.some((a) => after.includes(a))) throw new Error('a liked product is still recommended');
    if (slow.length) throw new Error(`updates took ${timings.join(', ')} ms (limit ${LIMIT_MS})`);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    result.ok = true;
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
