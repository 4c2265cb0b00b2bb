// Wires the dashboard together: detects whether the server wants a token,
// keeps the live event stream (with /sync/status polling while it is down)
// and refreshes the other panels when a job ends.

import { api, currentToken, authHeaders, forgetToken, onUnauthorized, sentence, storeToken } from './api.js';
import { TokenDialog } from './auth.js';
import { WeeklyChart } from './chart.js';
import { JobHistory } from './history.js';
import { RecentMatches, StatsSummary } from './match_views.js';
import { ScheduleCard } from './schedule.js';
import { JobStream } from './sse.js';
import { SyncPanel } from './panel.js';

const FAST_POLL_MS = 2000;   // while the event stream is down
const ACTIVE_POLL_MS = 5000; // a safety net while a job runs and the stream is up
const IDLE_POLL_MS = 30000;
const LIVE_REFRESH_MS = 10000; // totals and recent matches while a job runs

const $ = (selector) => document.querySelector(selector);
const html = document.documentElement;

let appState = 'loading'; // loading | ready | auth-required | error
let pollTimer = null;
let finishRefreshTimer = null;

const history = new JobHistory($('#job-history'), { onLoaded: (jobs) => panel.noteHistory(jobs) });
const stats = new StatsSummary($('#stats'));
const recent = new RecentMatches($('#recent-matches'));
const chart = new WeeklyChart($('#weekly-chart'), $('#weekly-chart-caption'));
const schedule = new ScheduleCard($('#schedule-card'));

const panel = new SyncPanel($('#sync-panel'), {
  onJobSeen(job) {
    history.upsert(job);
  },
  onJobFinished() {
    // Coalesce: a cancel answer and its event arrive close together.
    clearTimeout(finishRefreshTimer);
    finishRefreshTimer = setTimeout(refreshAll, 150);
    schedulePoll();
  },
  onStatusWanted() {
    checkStatus();
  },
});

const stream = new JobStream({
  url: '/sync/events',
  headers: () => authHeaders(),
  onJob: (job) => panel.handleJob(job),
  onWait: (notice) => panel.handleWait(notice),
  onState(state, detail) {
    const live = $('#live-status');
    live.dataset.state = state;
    live.textContent = {
      connecting: 'Connecting to live updates…',
      open: 'Live',
      down: 'Reconnecting… (checking every 2 s)',
      stopped: appState === 'auth-required' ? 'Signed out' : 'Offline',
    }[state];
    live.title = state === 'down' && detail ? `Live updates interrupted: ${detail}` : '';
    if (state === 'open') checkStatus(); // catch up on anything missed
    else schedulePoll();
  },
  onUnauthorized: () => askForToken(),
});

const tokenDialog = new TokenDialog($('#token-dialog'), {
  onAccepted(token) {
    storeToken(token);
    start();
  },
});

function setAppState(state) {
  appState = state;
  html.dataset.state = state;
  panel.setReady(state === 'ready');
  const hasToken = Boolean(currentToken());
  $('#forget-token-button').hidden = !hasToken;
  $('#token-open-button').hidden = state !== 'auth-required';
}

function showAppError(text) {
  $('#app-error-text').textContent = text;
  $('#app-error').hidden = !text;
}

function refreshAll() {
  schedule.load();
  history.load();
  stats.load();
  recent.load();
  chart.load();
}

function clearAll() {
  panel.reset();
  history.clear();
  stats.clear();
  recent.clear();
  chart.clear();
}

function schedulePoll() {
  clearTimeout(pollTimer);
  if (appState === 'auth-required') return;
  let interval = IDLE_POLL_MS;
  if (appState !== 'ready' || stream.state !== 'open') interval = FAST_POLL_MS;
  else if (panel.activeJob) interval = ACTIVE_POLL_MS;
  pollTimer = setTimeout(checkStatus, interval);
}

// A session starts at load, after a token is accepted and after "Forget
// token"; answers that belong to an earlier session are dropped.
let session = 0;
let statusInFlight = -1;
let statusFailed = false; // the last /sync/status request could not be answered
async function checkStatus() {
  const mine = session;
  if (statusInFlight === mine || appState === 'auth-required') return;
  statusInFlight = mine;
  clearTimeout(pollTimer);
  try {
    const status = await api.status();
    if (mine !== session) return;
    const wasReady = appState === 'ready';
    showAppError('');
    setAppState('ready');
    // The server answers again: the event stream need not wait out its backoff.
    if (statusFailed) stream.retryNow();
    statusFailed = false;
    await panel.handleStatus(status);
    if (!wasReady) {
      stream.start();
      refreshAll();
    }
  } catch (err) {
    if (mine !== session || err.status === 401) return; // 401: the token dialog takes over
    statusFailed = true;
    if (appState !== 'ready') {
      setAppState('error');
      const live = $('#live-status');
      live.dataset.state = 'down';
      live.textContent = 'Not connected';
    }
    showAppError(`Cannot load the sync status: ${sentence(err.detail || err.message)} Retrying every few seconds.`);
  } finally {
    if (mine === session) {
      statusInFlight = -1;
      schedulePoll();
    }
  }
}

function askForToken() {
  if (appState === 'auth-required') return;
  session += 1;
  const hadToken = Boolean(currentToken());
  forgetToken();
  stream.stop();
  clearTimeout(pollTimer);
  clearAll();
  showAppError('');
  setAppState('auth-required');
  $('#live-status').textContent = 'Signed out';
  tokenDialog.open(hadToken
    ? 'The saved token was not accepted. Enter a valid API token.'
    : 'This server needs an API token.');
}

function start() {
  session += 1;
  setAppState('loading');
  checkStatus();
}

onUnauthorized(() => askForToken());

$('#forget-token-button').addEventListener('click', () => {
  forgetToken();
  stream.stop();
  clearTimeout(pollTimer);
  clearAll();
  start();
});
$('#token-open-button').addEventListener('click', () => tokenDialog.open('This server needs an API token.'));
$('#retry-button').addEventListener('click', () => checkStatus());

setInterval(() => {
  if (appState === 'ready' && panel.activeJob) {
    stats.load();
    recent.load();
  }
}, LIVE_REFRESH_MS);

// Background tabs have their timers slowed down: catch up when seen again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && appState !== 'auth-required') checkStatus();
});

start();
