#!/usr/bin/env node
// Takes a full-page screenshot of a local HTML file in headless Chromium.
//
//   node screenshot.js PAGE.html OUT.png [--width 1280] [--height 900] [--scale 1]
//
// The system chromium (/usr/bin/chromium, or $CHROMIUM) is driven through playwright-core,
// which never downloads a browser. The page is opened from a file:// URL with networking off:
// a report that needed the network would show it here.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function parse(argv) {
  const args = { width: 1280, height: 900, scale: 1 };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].match(/^--(width|height|scale)$/);
    if (flag) {
      args[flag[1]] = Number(argv[++i]);
    } else {
      rest.push(argv[i]);
    }
  }
  if (rest.length !== 2 || !Number.isFinite(args.width) || !Number.isFinite(args.height)) {
    console.error('usage: screenshot.js PAGE.html OUT.png [--width W] [--height H] [--scale S]');
    process.exit(2);
  }
  [args.page, args.out] = rest;
  return args;
}

async function main() {
  const args = parse(process.argv.slice(2));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    offline: true,
    viewport: { width: args.width, height: args.height },
    deviceScaleFactor: args.scale,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto('file://' + path.resolve(args.page), { waitUntil: 'load' });
    const charts = await page.locator('figure svg').count();
    await page.screenshot({ path: args.out, fullPage: true });
    console.log(`${args.out}: ${charts} charts, ${args.width}px wide`);
    for (const p of problems) console.error(`page problem: ${p}`);
    if (problems.length) process.exitCode = 1;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
