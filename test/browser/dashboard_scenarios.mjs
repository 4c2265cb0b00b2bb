// The dashboard scenarios, driven in Debian's chromium through playwright-core.
// dashboard.test.mjs runs them against a real `matchsync serve`; they take the
// server through `config` (read when each test starts, so a harness may fill it
// in a before() hook):
//   config.baseUrl          the server, e.g. http://127.0.0.1:8080
//   config.token            an API token when the server runs with auth on, else ''
//   config.fakeUpstreamUrl  the fake OpenDota, or '' (optional)
//   config.outputDir        where screenshots go
// Waits are on conditions with deadlines, never fixed sleeps.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.MATCHSYNC_CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = Number(process.env.MATCHSYNC_TEST_WAIT_MS || 60000);
const TOKEN_KEY = 'matchsync.token';

/** Calls the API from node (setup and cleanup only; the checks go through the page). */
async function apiCall(config, method, pathname, body) {
  const headers = { Accept: 'application/json' };
  if (config.token) headers.Authorization = `Bearer ${config.token}`;
  // With auth none the server takes only JSON POSTs (SPEC §4).
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  const response = await fetch(new URL(pathname, config.baseUrl), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

/** Polls fn() until it returns a truthy value or the deadline passes. */
async function eventually(fn, message, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${message} (not within ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Cancels whatever job is active so a scenario starts from an idle account. */
async function ensureIdle(config) {
  const status = await apiCall(config, 'GET', '/sync/status');
  assert.equal(status.status, 200, `GET /sync/status answered ${status.status}: ${JSON.stringify(status.body)}`);
  if (status.body.active_job) {
    const cancel = await apiCall(config, 'POST', `/sync/cancel/${status.body.active_job.id}`);
    assert.ok([200, 400].includes(cancel.status), `cleanup cancel answered ${cancel.status}`);
  }
  await eventually(async () => (await apiCall(config, 'GET', '/sync/status')).body.is_syncing === false,
    'the account did not become idle');
}

/**
 * Sets the fake OpenDota's latency (`POST /_control/latency {"fixed_ms",
 * "jitter_ms"}`) so a sync lasts long enough to watch and cancel. Without a
 * fake URL it does nothing (a slow rate budget does the same) and returns
 * false; with one, a refused control request fails the test, since the
 * scenarios would otherwise race a sync that ends too soon.
 */
export async function setFakeUpstreamLatency(config, ms) {
  if (!config.fakeUpstreamUrl) return false;
  const response = await fetch(new URL('/_control/latency', config.fakeUpstreamUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fixed_ms: ms, jitter_ms: 0 }),
  });
  if (!response.ok) {
    throw new Error(`POST /_control/latency answered ${response.status}: ${await response.text()}`);
  }
  return true;
}

/**
 * Scripts the fake OpenDota's next answers for paths matching `pathRegex`
 * (`POST /_control/script`). Returns false without a fake URL.
 */
async function scriptFakeUpstream(config, pathRegex, answers) {
  if (!config.fakeUpstreamUrl) return false;
  const response = await fetch(new URL('/_control/script', config.fakeUpstreamUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ path: pathRegex, answers }),
  });
  if (!response.ok) {
    throw new Error(`POST /_control/script answered ${response.status}: ${await response.text()}`);
  }
  return true;
}

/** The latency that makes a sync slow enough to watch (MATCHSYNC_TEST_LATENCY_MS). */
const SLOW_MS = Number(process.env.MATCHSYNC_TEST_LATENCY_MS || 300);
/**
 * The latency that all but stops a sync: once a scenario has seen progress it
 * "freezes" the upstream, so the job is still running when the page is
 * photographed and cancelled however loaded the machine is (a cancel aborts
 * the held request). Below the server's 30 s upstream timeout, so nothing
 * times out and retries meanwhile.
 */
const HOLD_MS = 15000;

/** Holds every further upstream answer for HOLD_MS (no-op without the fake). */
function freezeUpstream(config) {
  return setFakeUpstreamLatency(config, HOLD_MS);
}

export function dashboardScenarios(config) {
  describe('dashboard', { concurrency: false }, () => {
    let browser;
    const contexts = [];

    before(async () => {
      assert.ok(config.baseUrl, 'set MATCHSYNC_DASHBOARD_URL to the server under test, e.g. http://127.0.0.1:8080');
      await mkdir(config.outputDir, { recursive: true });
      // As root (CI) chromium needs --no-sandbox; in a container /dev/shm is
      // often 64 MB, too small for it, hence --disable-dev-shm-usage.
      browser = await chromium.launch({
        executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], headless: true,
      });
    });

    // Each scenario's pages close when it ends: every page of the suite is
    // the same user, and a user may hold at most 4 event streams (SPEC §4).
    afterEach(async () => {
      while (contexts.length) await contexts.pop().close().catch(() => {});
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      if (browser) await browser.close();
    });

    /** A page whose uncaught errors fail the test; with a token stored when `withToken`. */
    async function openPage({ width = 1280, height = 900, withToken = true, locale = 'en-US', timezoneId } = {}) {
      const origin = new URL(config.baseUrl).origin;
      const storageState = withToken && config.token
        ? { cookies: [], origins: [{ origin, localStorage: [{ name: TOKEN_KEY, value: config.token }] }] }
        : undefined;
      const context = await browser.newContext({ viewport: { width, height }, locale, timezoneId, storageState });
      contexts.push(context);
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (err) => page.errors.push(err.message));
      return page;
    }

    async function loadReady(page) {
      await page.goto(new URL('/', config.baseUrl).href);
      try {
        await page.waitForFunction(() => document.documentElement.dataset.state === 'ready', null, { timeout: WAIT_MS });
      } catch (err) {
        const seen = await page.evaluate(() => `state=${document.documentElement.dataset.state}, `
          + `banner=${JSON.stringify(document.querySelector('#app-error')?.textContent.trim() ?? null)}`).catch(() => 'no page');
        assert.fail(`the dashboard did not become ready (${seen}; page errors: ${page.errors.join('; ') || 'none'}): ${err.message}`);
      }
      await page.waitForFunction(() => !['waiting', 'loading'].includes(document.querySelector('#job-history').dataset.state),
        null, { timeout: WAIT_MS });
    }

    async function shot(page, name) {
      await page.screenshot({ path: path.join(config.outputDir, `${name}.png`), fullPage: true });
    }

    function assertNoPageErrors(page) {
      assert.deepEqual(page.errors, [], `uncaught errors in the page: ${page.errors.join('; ')}`);
    }

    const processed = (page) => page.$eval('#progress-processed', (n) => Number(n.dataset.value));

    it('selects "New Matches Only" by default and offers "Full Sync (All Matches)"', async () => {
      await ensureIdle(config);
      const page = await openPage();
      await loadReady(page);
      const incremental = page.getByLabel('New Matches Only', { exact: true });
      const full = page.getByLabel('Full Sync (All Matches)', { exact: true });
      assert.equal(await incremental.getAttribute('value'), 'incremental_sync');
      assert.equal(await full.getAttribute('value'), 'full_sync');
      assert.equal(await incremental.isChecked(), true);
      assert.equal(await full.isChecked(), false);
      assert.equal((await page.textContent('#sync-button')).trim(), 'Sync Matches');
      assert.equal(await page.isEnabled('#sync-button'), true);
      assert.equal(await page.isVisible('#cancel-button'), false);
      assert.equal(await page.isVisible('#progress'), false);
      // Keyboard: the radios are reachable and arrow keys change the choice.
      await incremental.focus();
      await page.keyboard.press('ArrowDown');
      assert.equal(await full.isChecked(), true);
      await page.keyboard.press('ArrowUp');
      assert.equal(await incremental.isChecked(), true);
      await shot(page, 'default-selection');
      assertNoPageErrors(page);
    });

    it('runs a full sync with rising progress, then cancels it and offers a new sync', async () => {
      await ensureIdle(config);
      await setFakeUpstreamLatency(config, SLOW_MS);
      const page = await openPage();
      await loadReady(page);
      await page.getByLabel('Full Sync (All Matches)', { exact: true }).check();
      const buttonBefore = await page.locator('#sync-button').boundingBox();
      const [trigger] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/sync/trigger') && r.request().method() === 'POST'),
        page.click('#sync-button'),
      ]);
      assert.equal(trigger.status(), 201, `POST /sync/trigger answered ${trigger.status()}`);
      const job = await trigger.json();
      assert.equal(job.job_type, 'full_sync');
      assert.deepEqual(JSON.parse(trigger.request().postData()), { job_type: 'full_sync' });

      await page.locator('#progress').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.isVisible('#sync-type-selector'), false, 'the selector stays visible during a sync');
      assert.equal(await page.isVisible('#cancel-button'), true);
      assert.equal((await page.textContent('#cancel-button')).trim(), 'Cancel Sync');
      const buttonDuring = await page.locator('#sync-button').boundingBox();
      assert.ok(Math.abs(buttonDuring.y - buttonBefore.y) < 1, `the buttons moved from y=${buttonBefore.y} to y=${buttonDuring.y}`);

      // Progress numbers rise while the job runs.
      await page.waitForFunction(() => Number(document.querySelector('#progress-processed').dataset.value) > 0,
        null, { timeout: WAIT_MS });
      const first = await processed(page);
      await page.waitForFunction((v) => Number(document.querySelector('#progress-processed').dataset.value) > v,
        first, { timeout: WAIT_MS });
      const later = await processed(page);
      assert.ok(later > first, `processed went from ${first} to ${later}`);
      await freezeUpstream(config);
      assert.equal(await page.isVisible('#sync-panel[data-active="true"]'), true,
        'the job ended before it could be cancelled: slow the upstream (fake latency or a low rate budget)');
      const total = await page.$eval('#progress-total', (n) => Number(n.dataset.value));
      assert.ok(total >= later, `total ${total} is below processed ${later}`);
      assert.match(await page.$eval('#progress-phase', (n) => n.dataset.phase), /^(listing|details)$/);
      assert.match(await page.textContent('#progress-percent'), /%/);
      await shot(page, 'full-sync-progress');

      // Cancel: hold the request so "Cancelling..." can be seen, then let it through.
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      await page.route('**/sync/cancel/*', async (route) => {
        await held;
        await route.continue();
      });
      await page.click('#cancel-button');
      await page.waitForFunction(() => {
        const b = document.querySelector('#cancel-button');
        return b.textContent.trim() === 'Cancelling...' && b.disabled;
      }, null, { timeout: WAIT_MS });
      await shot(page, 'cancelling');
      const cancelAnswer = page.waitForResponse((r) => /\/sync\/cancel\/\d+$/.test(r.url()));
      release();
      const cancelResponse = await cancelAnswer;
      assert.equal(cancelResponse.status(), 200, `POST /sync/cancel answered ${cancelResponse.status()}`);
      await page.unroute('**/sync/cancel/*');

      await page.waitForSelector(`#sync-outcome[data-status="cancelled"][data-job-id="${job.id}"]`, { timeout: WAIT_MS });
      assert.match(await page.textContent('#sync-outcome'), /Cancelled by user/);
      await page.locator('#sync-type-selector').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.isVisible('#cancel-button'), false);
      assert.equal(await page.isVisible('#progress'), false);
      assert.equal(await page.isEnabled('#sync-button'), true);
      assert.equal((await page.textContent('#sync-button')).trim(), 'Sync Matches');
      await page.waitForSelector(`#job-history tr[data-job-id="${job.id}"][data-status="cancelled"]`, { timeout: WAIT_MS });
      await shot(page, 'cancelled');

      // A new sync may start at once.
      await page.getByLabel('New Matches Only', { exact: true }).check();
      const [second] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/sync/trigger') && r.request().method() === 'POST'),
        page.click('#sync-button'),
      ]);
      assert.equal(second.status(), 201, `a sync right after the cancel answered ${second.status()}`);
      const next = await second.json();
      assert.equal(next.job_type, 'incremental_sync');
      // Either it is shown running or it already finished; both are in the page.
      await page.waitForFunction((id) => {
        const panel = document.querySelector('#sync-panel');
        const outcome = document.querySelector('#sync-outcome');
        return panel.dataset.jobId === String(id) || outcome.dataset.jobId === String(id);
      }, next.id, { timeout: WAIT_MS });
      await page.waitForSelector(`#job-history tr[data-job-id="${next.id}"]`, { timeout: WAIT_MS });
      await shot(page, 'incremental-after-cancel');
      if (await page.isVisible('#cancel-button')) {
        await page.click('#cancel-button');
      }
      await page.waitForSelector(`#sync-outcome[data-job-id="${next.id}"]`, { timeout: WAIT_MS });
      await page.locator('#sync-type-selector').waitFor({ state: 'visible', timeout: WAIT_MS });
      await setFakeUpstreamLatency(config, 0);
      assertNoPageErrors(page);
    });

    it('shows a rate-limit wait under the progress counters', async (t) => {
      await ensureIdle(config);
      await setFakeUpstreamLatency(config, SLOW_MS);
      // The first detail request is answered 429 with Retry-After: 2.
      const scripted = await scriptFakeUpstream(config, '/api/matches/.*', [
        { action: 'status', status: 429, retry_after: '2', delay_ms: 0, repeat: 1 },
      ]);
      if (!scripted) {
        t.skip('needs the fake OpenDota (FAKE_OPENDOTA_URL)');
        return;
      }
      const page = await openPage();
      await loadReady(page);
      await page.getByLabel('Full Sync (All Matches)', { exact: true }).check();
      await page.click('#sync-button');
      await page.locator('#progress-waits').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.$eval('#progress-waits', (n) => n.dataset.waits), '1');
      assert.equal(await page.$eval('#progress-waits', (n) => n.dataset.reason), 'rate_limited');
      assert.match(await page.textContent('#progress-waits'),
        /Rate-limit waits: 1 \(last: rate limited by OpenDota, waiting 2s\)/);
      await freezeUpstream(config);
      await shot(page, 'rate-limit-wait');
      if (await page.isVisible('#cancel-button')) await page.click('#cancel-button');
      await page.locator('#sync-type-selector').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.isVisible('#progress-waits'), false);
      await setFakeUpstreamLatency(config, 0);
      assertNoPageErrors(page);
    });

    it('says in words when a sync waits for the daily quota, and cancels the wait at once', async (t) => {
      if (!config.quotaWait) {
        t.skip('needs a server whose daily quota runs out (MATCHSYNC_TEST_QUOTA_WAIT=1)');
        return;
      }
      await ensureIdle(config);
      const started = await apiCall(config, 'POST', '/sync/trigger', { job_type: 'full_sync' });
      assert.equal(started.status, 201, `trigger answered ${started.status}`);
      const id = started.body.id;
      const waiting = await eventually(async () => {
        const job = (await apiCall(config, 'GET', `/sync/jobs/${id}`)).body;
        return job.phase === 'waiting_quota' ? job : null;
      }, 'the job did not reach a quota wait');
      // The page in a zone where the upstream's next day starts at 01:00
      // local time (Etc/GMT-N is UTC+N), the issue's own example.
      const resume = new Date(waiting.resume_at);
      assert.equal(resume.getUTCMinutes(), 0, `resume_at ${waiting.resume_at} is not on the hour`);
      const ahead = (((1 - resume.getUTCHours()) % 24) + 24) % 24;
      const offset = ahead > 14 ? ahead - 24 : ahead;
      const timezoneId = offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
      const page = await openPage({ locale: 'en-GB', timezoneId });
      await loadReady(page);
      await page.waitForSelector(`#sync-panel[data-active="true"][data-job-id="${id}"]`, { timeout: WAIT_MS });
      await page.waitForSelector('#progress-phase[data-phase="waiting_quota"]', { timeout: WAIT_MS });
      assert.equal((await page.textContent('#progress-phase')).trim(),
        "OpenDota's daily limit is used up; this sync goes on at 01:00 your time");
      await shot(page, 'quota-wait');

      const upstreamRequests = async () => {
        if (!config.fakeUpstreamUrl) return null;
        const log = await (await fetch(new URL('/_control/log', config.fakeUpstreamUrl))).json();
        return log.requests.length;
      };
      const before = await upstreamRequests();
      const asked = Date.now();
      const [cancel] = await Promise.all([
        page.waitForResponse((r) => /\/sync\/cancel\/\d+$/.test(r.url())),
        page.click('#cancel-button'),
      ]);
      assert.equal(cancel.status(), 200, `POST /sync/cancel answered ${cancel.status()}`);
      // SPEC: a cancel is acknowledged within the cancel timeout (2 s).
      assert.ok(Date.now() - asked < 2000, `the cancel took ${Date.now() - asked} ms`);
      await page.waitForSelector(`#sync-outcome[data-status="cancelled"][data-job-id="${id}"]`, { timeout: WAIT_MS });
      assert.equal(await upstreamRequests(), before, 'an upstream request followed the cancelled wait');
      await shot(page, 'quota-wait-cancelled');
      assertNoPageErrors(page);
    });

    it('shows the running job when a sync was started elsewhere (409 from trigger)', async () => {
      await ensureIdle(config);
      await setFakeUpstreamLatency(config, SLOW_MS);
      const page = await openPage();
      // Keep live updates from this page so it still believes the account is idle.
      await page.route('**/sync/events', (route) => route.abort());
      await page.route('**/sync/status', (route) => route.fulfill({
        status: 200, contentType: 'application/json', body: JSON.stringify({ is_syncing: false, active_job: null }),
      }));
      await loadReady(page);
      const started = await apiCall(config, 'POST', '/sync/trigger', { job_type: 'full_sync' });
      assert.equal(started.status, 201, `trigger from node answered ${started.status}`);
      await freezeUpstream(config);
      const [conflict] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/sync/trigger')),
        page.click('#sync-button'),
      ]);
      assert.equal(conflict.status(), 409);
      await page.waitForSelector(`#sync-panel[data-active="true"][data-job-id="${started.body.id}"]`, { timeout: WAIT_MS });
      assert.equal(await page.isVisible('#sync-error'), false, 'a 409 is shown as the running job, not as an error');
      await shot(page, 'conflict-shows-running-job');
      await page.unroute('**/sync/status');
      await page.unroute('**/sync/events');
      await page.click('#cancel-button');
      await page.waitForSelector(`#sync-outcome[data-status="cancelled"][data-job-id="${started.body.id}"]`, { timeout: WAIT_MS });
      await setFakeUpstreamLatency(config, 0);
      assertNoPageErrors(page);
    });

    it('turns automatic sync on with an interval, shows the next run in local time, and keeps it after a reload', async () => {
      const off = await apiCall(config, 'PUT', '/sync/schedule', { enabled: false, interval_minutes: 60 });
      assert.equal(off.status, 200, `PUT /sync/schedule answered ${off.status}`);
      const page = await openPage();
      await loadReady(page);
      await page.waitForFunction(() => !document.querySelector('#schedule-enabled').disabled, null, { timeout: WAIT_MS });
      assert.equal(await page.isChecked('#schedule-enabled'), false);
      assert.match(await page.textContent('#schedule-next'), /off/);
      await page.selectOption('#schedule-interval', '30');
      const [saved] = await Promise.all([
        // The interval's own save (still off) may answer first: wait for the one that turns it on.
        page.waitForResponse((r) => r.url().endsWith('/sync/schedule') && r.request().method() === 'PUT' &&
          r.request().postDataJSON()?.enabled === true),
        page.check('#schedule-enabled'),
      ]);
      await page.waitForFunction(() => document.querySelector('#schedule-card').dataset.enabled === 'true', null, { timeout: WAIT_MS });
      const stored = await apiCall(config, 'GET', '/sync/schedule');
      assert.equal(stored.body.enabled, true);
      assert.equal(stored.body.interval_minutes, 30);
      assert.ok(stored.body.next_run_at, 'no next run after turning it on');
      // The first due time may be a second away: the server's scheduler may
      // have run it, and moved the next run, between the page's PUT and this
      // GET. The page shows the one it was answered, or the one after.
      const shown = await page.textContent('#schedule-next');
      const texts = await page.evaluate((isos) => isos.map((iso) => new Date(iso).toLocaleString(undefined, {
        weekday: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })),
      [(await saved.json()).next_run_at, stored.body.next_run_at]);
      assert.ok(texts.some((t) => shown === `Next automatic sync: ${t}.`),
        `the page shows "${shown}", not the next run it was answered (${texts[0]}) nor the stored one (${texts[1]})`);
      await shot(page, 'schedule-on');

      // It survives a reload.
      await loadReady(page);
      await page.waitForFunction(() => document.querySelector('#schedule-card').dataset.enabled === 'true', null, { timeout: WAIT_MS });
      assert.equal(await page.isChecked('#schedule-enabled'), true);
      assert.equal(await page.inputValue('#schedule-interval'), '30');
      await page.uncheck('#schedule-enabled');
      await page.waitForFunction(() => document.querySelector('#schedule-card').dataset.enabled === 'false', null, { timeout: WAIT_MS });
      assert.equal((await apiCall(config, 'GET', '/sync/schedule')).body.enabled, false);
      assertNoPageErrors(page);
    });

    it('asks for the token once, rejects a wrong one, remembers the right one and forgets it', async (t) => {
      const page = await openPage({ withToken: false });
      if (!config.token) {
        await loadReady(page);
        assert.equal(await page.isVisible('#token-dialog'), false, 'auth is off but the page asks for a token');
        assert.equal(await page.isVisible('#forget-token-button'), false);
        await shot(page, 'auth-off-no-prompt');
        assertNoPageErrors(page);
        t.diagnostic('MATCHSYNC_TOKEN is not set: checked that no token prompt appears');
        return;
      }
      await page.goto(new URL('/', config.baseUrl).href);
      await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
      const input = page.getByLabel('API token', { exact: true });
      assert.equal(await input.evaluate((n) => n === document.activeElement), true, 'the token input has focus');
      await shot(page, 'token-prompt');

      await input.fill(`wrong-${Date.now()}`);
      await page.keyboard.press('Enter');
      await page.locator('#token-error').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.match(await page.textContent('#token-error'), /not accepted/);
      assert.equal(await page.isVisible('#token-dialog'), true);
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null);
      await shot(page, 'token-wrong');

      await input.fill(config.token);
      await page.click('#token-submit');
      await page.waitForFunction(() => document.documentElement.dataset.state === 'ready', null, { timeout: WAIT_MS });
      assert.equal(await page.isVisible('#token-dialog'), false);
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), config.token);
      await page.waitForSelector('#stats[data-state="ready"]', { timeout: WAIT_MS });

      // Remembered: a reload does not ask again.
      await loadReady(page);
      assert.equal(await page.isVisible('#token-dialog'), false, 'asked for the token again after a reload');
      assert.equal(await page.isVisible('#forget-token-button'), true);
      await shot(page, 'token-accepted');

      await page.click('#forget-token-button');
      await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null);
      await shot(page, 'token-forgotten');
      assertNoPageErrors(page);
    });

    it('follows a job by polling while the event stream is unavailable, then goes live', async () => {
      await ensureIdle(config);
      await setFakeUpstreamLatency(config, SLOW_MS);
      const page = await openPage();
      await page.route('**/sync/events', (route) => route.abort());
      await loadReady(page);
      await page.waitForSelector('#live-status[data-state="down"]', { timeout: WAIT_MS });
      await page.getByLabel('Full Sync (All Matches)', { exact: true }).check();
      await page.click('#sync-button');
      await page.locator('#progress').waitFor({ state: 'visible', timeout: WAIT_MS });
      // Progress still moves: /sync/status is polled while the stream is down.
      await page.waitForFunction(() => Number(document.querySelector('#progress-processed').dataset.value) > 0,
        null, { timeout: WAIT_MS });
      const first = await processed(page);
      await page.waitForFunction((v) => Number(document.querySelector('#progress-processed').dataset.value) > v,
        first, { timeout: WAIT_MS });
      await freezeUpstream(config);

      // The server unreachable too: an error shows, the job stays on screen.
      await page.route('**/sync/status', (route) => route.abort());
      await page.locator('#app-error').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await page.isVisible('#progress'), true, 'the running job vanished while the server was unreachable');
      await shot(page, 'server-unreachable');

      await page.unroute('**/sync/status');
      await page.unroute('**/sync/events');
      await page.locator('#app-error').waitFor({ state: 'hidden', timeout: WAIT_MS });
      await page.waitForSelector('#live-status[data-state="open"]', { timeout: WAIT_MS });
      if (await page.isVisible('#cancel-button')) await page.click('#cancel-button');
      await page.locator('#sync-type-selector').waitFor({ state: 'visible', timeout: WAIT_MS });
      await setFakeUpstreamLatency(config, 0);
      assertNoPageErrors(page);
    });

    it('fits a 375 px wide screen, idle and while syncing', async () => {
      await ensureIdle(config);
      await setFakeUpstreamLatency(config, SLOW_MS);
      const page = await openPage({ width: 375, height: 812 });
      await loadReady(page);
      await page.waitForFunction(() => !['waiting', 'loading'].includes(document.querySelector('#weekly-chart').dataset.state),
        null, { timeout: WAIT_MS });
      const overflow = () => page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        wide: [...document.querySelectorAll('body *')]
          .filter((n) => n.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .filter((n) => getComputedStyle(n).visibility !== 'hidden' && n.getClientRects().length > 0)
          .slice(0, 5).map((n) => n.id || n.className || n.tagName),
      }));
      let o = await overflow();
      assert.ok(o.scroll <= o.client, `horizontal overflow at 375 px: ${o.scroll} > ${o.client} (${o.wide.join(', ')})`);
      await shot(page, 'phone-375-idle');

      await page.getByLabel('Full Sync (All Matches)', { exact: true }).check();
      await page.click('#sync-button');
      await page.locator('#progress').waitFor({ state: 'visible', timeout: WAIT_MS });
      await page.waitForFunction(() => Number(document.querySelector('#progress-processed').dataset.value) > 0,
        null, { timeout: WAIT_MS });
      await freezeUpstream(config);
      o = await overflow();
      assert.ok(o.scroll <= o.client, `horizontal overflow at 375 px while syncing: ${o.scroll} > ${o.client} (${o.wide.join(', ')})`);
      await shot(page, 'phone-375-syncing');
      await page.click('#cancel-button');
      await page.locator('#sync-type-selector').waitFor({ state: 'visible', timeout: WAIT_MS });
      await setFakeUpstreamLatency(config, 0);
      assertNoPageErrors(page);
    });
  });
}
