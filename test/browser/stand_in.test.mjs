// Runs the dashboard scenarios against the in-memory stand-in API, with auth on
// and off, so the page and the scenarios can be checked without the C++ server;
// plus what only the stand-in can do: close the event stream under the page.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { dashboardScenarios } from './dashboard_scenarios.mjs';
import { startStandIn } from './stand_in_server.mjs';

const outputRoot = process.env.MATCHSYNC_TEST_OUTPUT_DIR || './output';
const CHROMIUM = process.env.MATCHSYNC_CHROMIUM || '/usr/bin/chromium';

for (const [name, token] of [['auth on', 'stand-in-token-123'], ['auth off', '']]) {
  describe(`stand-in, ${name}`, () => {
    const config = { baseUrl: '', token, fakeUpstreamUrl: '', outputDir: path.join(outputRoot, `stand-in-${token ? 'token' : 'none'}`) };
    let standIn;
    before(async () => {
      standIn = await startStandIn({ token, tickMs: 150 });
      config.baseUrl = standIn.url;
    });
    after(async () => {
      await standIn.close();
    });
    dashboardScenarios(config);
  });
}

describe('stand-in, event stream closed by the server', () => {
  let standIn;
  let browser;
  before(async () => {
    standIn = await startStandIn({ tickMs: 150 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
    await standIn?.close();
  });

  it('reconnects and keeps showing progress', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${standIn.url}/`);
    await page.waitForSelector('#live-status[data-state="open"]');
    await page.evaluate(() => {
      window.liveStates = [];
      new MutationObserver(() => window.liveStates.push(document.querySelector('#live-status').dataset.state))
        .observe(document.querySelector('#live-status'), { attributes: true, attributeFilter: ['data-state'] });
    });
    await page.click('#sync-button');
    await page.waitForFunction(() => Number(document.querySelector('#progress-processed').dataset.value) > 0);
    for (let i = 0; i < 3; i += 1) {
      const seen = await page.evaluate(() => window.liveStates.length);
      standIn.dropStreams();
      await page.waitForFunction((n) => window.liveStates.slice(n).join(',').match(/down.*open/), seen, { timeout: 30000 });
    }
    const now = await page.$eval('#progress-processed', (n) => Number(n.dataset.value));
    await page.waitForFunction((v) => Number(document.querySelector('#progress-processed').dataset.value) > v, now);
    await page.click('#cancel-button');
    await page.waitForSelector('#sync-outcome[data-status="cancelled"]');
    assert.deepEqual(errors, []);
  });
});
