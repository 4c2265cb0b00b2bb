// The sync panel: type selector, "Sync Matches", live progress, "Cancel Sync"
// and the outcome of the last job. Every SyncJob the page learns of (trigger
// answer, event stream, status poll, cancel answer) goes through handleJob(),
// which keeps one rule: terminal states never change, and an older job never
// replaces a newer one.

import { api } from './api.js';
import { formatElapsed, formatInt, formatPercentValue, parseTimestamp } from './format.js';
import { PHASE_LABELS, givesWayToTrigger, isActiveStatus, jobTypeLabel, statusLabel } from './dota_names.js';

// SPEC §5: a quota wait in words, with the time in the user's own zone.
export function quotaWaitText(resumeAt) {
  const at = parseTimestamp(resumeAt);
  const when = at ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : 'the start of its next day';
  return `OpenDota's daily limit is used up; this sync goes on at ${when} your time`;
}

function jobDurationSeconds(job, now = Date.now()) {
  const start = parseTimestamp(job.started_at) || parseTimestamp(job.created_at);
  if (!start) return null;
  const end = parseTimestamp(job.completed_at) || (isActiveStatus(job.status) ? new Date(now) : null);
  return end ? Math.max(0, (end - start) / 1000) : null;
}

export { jobDurationSeconds };

function setNumber(node, value) {
  const n = Number(value);
  node.dataset.value = Number.isFinite(n) ? String(n) : '';
  node.textContent = formatInt(value);
}

export class SyncPanel {
  /**
   * root: the #sync-panel element.
   * onJobSeen(job): any SyncJob update (to refresh the history row).
   * onJobFinished(job): a job reached a terminal state while the page watched.
   * onStatusWanted(): ask the app for a fresh /sync/status.
   */
  constructor(root, { onJobSeen = () => {}, onJobFinished = () => {}, onStatusWanted = () => {} } = {}) {
    this.root = root;
    this.onJobSeen = onJobSeen;
    this.onJobFinished = onJobFinished;
    this.onStatusWanted = onStatusWanted;
    this.activeJob = null;
    this.lastOutcome = null;
    this.finished = new Map();
    this.ready = false;
    this.triggerInFlight = false;
    this.cancelInFlight = false;
    this.resolvingId = null;

    const $ = (selector) => root.querySelector(selector);
    this.form = $('#sync-form');
    this.selector = $('#sync-type-selector');
    this.progress = $('#progress');
    this.syncButton = $('#sync-button');
    this.cancelButton = $('#cancel-button');
    this.outcome = $('#sync-outcome');
    this.notice = $('#sync-notice');
    this.error = $('#sync-error');
    this.bar = $('#progress-bar');
    this.fill = $('#progress-fill');
    this.title = $('#progress-title');
    this.statusBadge = $('#progress-status');
    this.phase = $('#progress-phase');
    this.percent = $('#progress-percent');
    this.processed = $('#progress-processed');
    this.total = $('#progress-total');
    this.newCount = $('#progress-new');
    this.updatedCount = $('#progress-updated');
    this.failedCount = $('#progress-failed');
    this.meta = $('#progress-meta');
    this.waits = $('#progress-waits');
    this.lastWait = null; // the active job's latest rate-limit wait

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.trigger();
    });
    this.cancelButton.addEventListener('click', () => this.cancel());
    // Whether keyboard focus belongs to the panel, even after the focused
    // button got disabled or hidden and the browser dropped focus to <body>.
    this.ownsFocus = false;
    root.addEventListener('focusin', () => { this.ownsFocus = true; });
    root.addEventListener('focusout', (event) => {
      if (event.relatedTarget && !root.contains(event.relatedTarget)) this.ownsFocus = false;
    });
    document.addEventListener('pointerdown', (event) => {
      if (!root.contains(event.target)) this.ownsFocus = false;
    });
    this.render();
  }

  selectedType() {
    const checked = this.form.querySelector('input[name="job_type"]:checked');
    return checked ? checked.value : 'incremental_sync';
  }

  /** The server answered: syncs may be started. */
  setReady(ready) {
    this.ready = ready;
    this.render();
  }

  /** Forget everything shown (after the token was forgotten). */
  reset() {
    this.activeJob = null;
    this.lastOutcome = null;
    this.finished.clear();
    this.ready = false;
    this.showNotice('');
    this.showError('');
    this.render();
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** A SyncJob from any source. */
  handleJob(job) {
    if (!job || job.id === undefined || job.id === null) return;
    const id = Number(job.id);
    if (isActiveStatus(job.status)) {
      if (this.finished.has(id)) return; // a late, stale event
      if (this.activeJob && id < Number(this.activeJob.id)) return;
      this.activeJob = job;
      this.render();
      this.onJobSeen(job);
      return;
    }
    const firstTime = !this.finished.has(id);
    this.finished.set(id, job);
    if (this.activeJob && Number(this.activeJob.id) === id) this.activeJob = null;
    if (!this.activeJob && (!this.lastOutcome || id >= Number(this.lastOutcome.id))) this.lastOutcome = job;
    this.render();
    this.onJobSeen(job);
    if (firstTime) this.onJobFinished(job);
  }

  /**
   * A `wait` event: the job is held back by the upstream's rate limit (429)
   * or by the shared request budget. Shown under the counters while the job
   * stays active.
   */
  handleWait(notice) {
    if (!this.activeJob || Number(notice.job_id) !== Number(this.activeJob.id)) return;
    this.lastWait = { ...notice, jobId: Number(notice.job_id) };
    this.render();
  }

  /** Terminal jobs from the history list: known outcomes, no refresh needed. */
  noteHistory(jobs) {
    let changed = false;
    for (const job of jobs) {
      if (isActiveStatus(job.status)) continue;
      const id = Number(job.id);
      if (this.activeJob && Number(this.activeJob.id) === id) {
        // The list saw the end of the job before any event did.
        this.handleJob(job);
        continue;
      }
      if (!this.finished.has(id)) this.finished.set(id, job);
      if (!this.activeJob && !this.lastOutcome) {
        this.lastOutcome = job;
        changed = true;
      }
    }
    if (changed) this.render();
  }

  /** A /sync/status answer: {is_syncing, active_job}. */
  async handleStatus(status) {
    if (status && status.active_job) {
      this.handleJob(status.active_job);
      return;
    }
    const job = this.activeJob;
    if (!job || this.resolvingId === job.id) return;
    // The job ended while we were not listening: fetch its final row.
    this.resolvingId = job.id;
    try {
      this.handleJob(await api.job(job.id));
    } catch (err) {
      if (err.status === 404 && this.activeJob && this.activeJob.id === job.id) {
        this.activeJob = null;
        this.render();
      }
    } finally {
      this.resolvingId = null;
    }
  }

  async trigger() {
    const blocking = this.activeJob && !givesWayToTrigger(this.activeJob);
    if (!this.ready || blocking || this.triggerInFlight) return;
    const jobType = this.selectedType();
    this.showNotice('');
    this.showError('');
    this.triggerInFlight = true;
    this.render();
    try {
      const job = await api.trigger(jobType);
      this.handleJob(job);
    } catch (err) {
      if (err.status === 409 && err.body && err.body.active_job) {
        this.showNotice(`${err.detail || 'A sync is already running'} — its progress is shown above.`);
        this.handleJob(err.body.active_job);
      } else if (err.status === 409) {
        this.showNotice(err.detail || 'A sync is already running.');
        this.onStatusWanted();
      } else if (err.status !== 401) {
        this.showError(`Could not start the sync: ${err.detail || err.message}`);
      }
    } finally {
      this.triggerInFlight = false;
      this.render();
    }
  }

  async cancel() {
    const job = this.activeJob;
    if (!job || this.cancelInFlight) return;
    this.showNotice('');
    this.showError('');
    this.cancelInFlight = true;
    this.render();
    try {
      this.handleJob(await api.cancel(job.id));
    } catch (err) {
      if (err.status === 400) {
        // It ended on its own before the cancel arrived.
        this.showNotice(err.detail);
        try {
          this.handleJob(await api.job(job.id));
        } catch {
          this.onStatusWanted();
        }
      } else if (err.status === 404) {
        this.showError(err.detail);
        if (this.activeJob && this.activeJob.id === job.id) this.activeJob = null;
        this.onStatusWanted();
      } else if (err.status !== 401) {
        this.showError(`Could not cancel the sync: ${err.detail || err.message}`);
      }
    } finally {
      this.cancelInFlight = false;
      this.render();
    }
  }

  render() {
    const job = this.activeJob;
    const active = Boolean(job);
    this.root.dataset.active = String(active);
    this.root.dataset.jobId = job ? String(job.id) : '';
    // A scheduled job that gives way leaves "Sync Matches" on (and its type).
    const blocking = active && !givesWayToTrigger(job);
    this.selector.inert = blocking;
    this.progress.inert = !active;
    this.progress.setAttribute('aria-hidden', String(!active));

    this.syncButton.disabled = blocking || this.triggerInFlight || !this.ready;
    this.syncButton.textContent = blocking ? 'Syncing...' : this.triggerInFlight ? 'Starting...' : 'Sync Matches';
    this.cancelButton.hidden = !active;
    const cancelling = active && (this.cancelInFlight || Boolean(job.cancel_requested_at));
    this.cancelButton.disabled = cancelling;
    this.cancelButton.textContent = cancelling ? 'Cancelling...' : 'Cancel Sync';

    if (active) this.renderProgress(job, cancelling);
    this.renderOutcome(active ? null : this.lastOutcome);

    if (this.ownsFocus) {
      const focused = document.activeElement;
      const lost = !focused || focused === document.body || focused.disabled || focused.hidden
        || Boolean(focused.closest('[inert]'));
      if (lost) {
        const target = !this.cancelButton.hidden && !this.cancelButton.disabled ? this.cancelButton : this.syncButton;
        if (!target.disabled) target.focus();
      }
    }
  }

  renderProgress(job, cancelling) {
    this.title.textContent = `${jobTypeLabel(job.job_type)} #${job.id}`;
    this.statusBadge.textContent = cancelling ? 'Cancelling' : statusLabel(job.status);
    this.statusBadge.dataset.status = job.status;
    const phase = job.phase || '';
    this.phase.dataset.phase = phase;
    this.phase.textContent = job.status === 'pending' ? 'Waiting to start'
      : phase === 'waiting_quota' ? quotaWaitText(job.resume_at)
      : PHASE_LABELS[phase] || (phase ? phase : 'Starting');

    const total = Number(job.total_matches) || 0;
    const processed = Number(job.processed_matches) || 0;
    let pct = Number(job.progress_percentage);
    if (!Number.isFinite(pct)) pct = total > 0 ? (processed / total) * 100 : 0;
    pct = Math.max(0, Math.min(100, pct));
    const indeterminate = total === 0 && job.status === 'running';
    this.bar.dataset.indeterminate = String(indeterminate);
    if (indeterminate) {
      this.bar.removeAttribute('aria-valuenow');
      this.bar.setAttribute('aria-valuetext', `${this.phase.textContent}, total not known yet`);
      this.fill.style.width = '';
      this.percent.textContent = '…';
    } else {
      this.bar.setAttribute('aria-valuenow', pct.toFixed(1));
      this.bar.setAttribute('aria-valuetext', `${formatPercentValue(pct)}, ${formatInt(processed)} of ${formatInt(total)} matches`);
      this.fill.style.width = `${pct}%`;
      this.percent.textContent = formatPercentValue(pct);
    }
    this.percent.dataset.value = String(pct);
    setNumber(this.processed, processed);
    setNumber(this.total, total);
    setNumber(this.newCount, job.new_matches);
    setNumber(this.updatedCount, job.updated_matches);
    setNumber(this.failedCount, job.failed_matches);
    const meta = [];
    if (job.node) meta.push(`on ${job.node}`);
    if (Number(job.attempt) > 1) meta.push(`attempt ${job.attempt}`);
    this.meta.textContent = meta.join(' · ');
    this.renderWaits(job);
  }

  renderWaits(job) {
    const wait = this.lastWait && this.lastWait.jobId === Number(job.id) ? this.lastWait : null;
    this.waits.hidden = !wait;
    this.waits.dataset.waits = wait ? String(wait.waits) : '0';
    this.waits.dataset.reason = wait ? wait.reason : '';
    if (!wait) {
      this.waits.textContent = '';
      return;
    }
    const seconds = formatElapsed(Number(wait.seconds) || 0);
    const last = wait.reason === 'budget'
      ? `last: waited ${seconds} for the shared request budget`
      : `last: rate limited by OpenDota, waiting ${seconds}`;
    const count = Number(wait.waits) || 1;
    this.waits.textContent = `Rate-limit waits: ${formatInt(count)} (${last})`;
  }

  renderOutcome(job) {
    if (!job) {
      this.outcome.hidden = true;
      this.outcome.dataset.status = '';
      this.outcome.dataset.jobId = '';
      this.outcome.replaceChildren();
      return;
    }
    const label = `${jobTypeLabel(job.job_type)} #${job.id}`;
    const counts = `${formatInt(job.new_matches)} new, ${formatInt(job.updated_matches)} updated, ${formatInt(job.failed_matches)} failed`;
    const processed = `${formatInt(job.processed_matches)} of ${formatInt(job.total_matches)} matches processed`;
    const took = jobDurationSeconds(job);
    const duration = took === null ? '' : ` in ${formatElapsed(took)}`;
    const strong = document.createElement('strong');
    strong.textContent = `${label} ${statusLabel(job.status).toLowerCase()}`;
    const parts = [strong];
    if (job.status === 'completed') {
      parts.push(`: ${counts}; ${processed}${duration}.`);
    } else {
      const detail = document.createElement('span');
      detail.id = 'sync-outcome-detail';
      detail.textContent = job.error_message || (job.status === 'cancelled' ? 'Cancelled by user' : 'no reason given');
      parts.push(': ', detail, `. ${processed}${duration}; ${counts}.`);
    }
    this.outcome.replaceChildren(...parts);
    this.outcome.dataset.status = job.status;
    this.outcome.dataset.jobId = String(job.id);
    this.outcome.hidden = false;
  }
}
