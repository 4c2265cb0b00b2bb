// The job history table (GET /sync/jobs?limit=10). Live events update rows in
// place; a fresh list is fetched when a job starts or ends.

import { api } from './api.js';
import { el, formatElapsed, formatInt, timeElement } from './format.js';
import { isActiveStatus, jobTypeLabel, statusLabel } from './dota_names.js';
import { jobDurationSeconds } from './panel.js';

const LIMIT = 10;

export class JobHistory {
  constructor(root, { onLoaded = () => {} } = {}) {
    this.root = root;
    this.onLoaded = onLoaded;
    this.jobs = null;
    this.sequence = 0;
    this.error = '';
    this.started = false;
    this.render();
  }

  clear() {
    this.sequence += 1;
    this.jobs = null;
    this.error = '';
    this.started = false;
    this.render();
  }

  async load() {
    const sequence = ++this.sequence;
    this.started = true;
    this.root.setAttribute('aria-busy', 'true');
    try {
      const jobs = await api.jobs(LIMIT);
      if (sequence !== this.sequence) return;
      this.jobs = Array.isArray(jobs) ? jobs : [];
      this.error = '';
      this.onLoaded(this.jobs);
    } catch (err) {
      if (sequence !== this.sequence) return;
      this.error = err.status === 401 ? '' : `Could not load the sync history: ${err.detail || err.message}`;
    } finally {
      if (sequence === this.sequence) {
        this.root.removeAttribute('aria-busy');
        this.render();
      }
    }
  }

  /** Puts a job's latest state into the table without a round trip. */
  upsert(job) {
    if (!this.jobs) return;
    const id = Number(job.id);
    const index = this.jobs.findIndex((j) => Number(j.id) === id);
    if (index >= 0) {
      const known = this.jobs[index];
      // A terminal row never goes back to an active state.
      if (!isActiveStatus(known.status) && isActiveStatus(job.status)) return;
      this.jobs[index] = job;
    } else if (this.jobs.length === 0 || id > Number(this.jobs[0].id)) {
      this.jobs.unshift(job);
      this.jobs.length = Math.min(this.jobs.length, LIMIT);
    } else {
      return;
    }
    this.render();
  }

  render() {
    if (this.error) {
      this.root.dataset.state = 'error';
      this.root.replaceChildren(el('p', { class: 'section-error', role: 'alert', text: this.error }));
      return;
    }
    if (!this.jobs) {
      this.root.dataset.state = this.started ? 'loading' : 'waiting';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: this.started ? 'Loading sync history…' : 'Waiting for the server…' }));
      return;
    }
    if (this.jobs.length === 0) {
      this.root.dataset.state = 'empty';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: 'No syncs yet. Choose a type above and press "Sync Matches".' }));
      return;
    }
    this.root.dataset.state = 'ready';
    const head = el('thead', {}, el('tr', {},
      [['Job'], ['Type'], ['Status'], ['Processed', 'num'], ['New', 'num'], ['Updated', 'num'], ['Failed', 'num'],
        ['Duration', 'num'], ['Started']].map(([name, cls]) => el('th', { scope: 'col', class: cls, text: name }))));
    const rows = this.jobs.map((job) => {
      const processed = `${formatInt(job.processed_matches)} / ${formatInt(job.total_matches)}`;
      const problem = !isActiveStatus(job.status) && job.status !== 'completed' && job.error_message;
      return el('tr', { 'data-job-id': job.id, 'data-status': job.status },
        el('td', { 'data-label': 'Job' }, `#${job.id}`),
        el('td', { 'data-label': 'Type' }, jobTypeLabel(job.job_type),
          job.triggered_by === 'schedule'
            ? el('span', { class: 'row-note', 'data-testid': 'scheduled-mark', text: 'scheduled' }) : null),
        el('td', { 'data-label': 'Status' },
          el('span', { class: 'badge', 'data-status': job.status, text: statusLabel(job.status) }),
          problem ? el('span', { class: 'row-note', text: job.error_message }) : null),
        el('td', { 'data-label': 'Processed', class: 'num' }, processed),
        el('td', { 'data-label': 'New', class: 'num' }, formatInt(job.new_matches)),
        el('td', { 'data-label': 'Updated', class: 'num' }, formatInt(job.updated_matches)),
        el('td', { 'data-label': 'Failed', class: 'num' }, formatInt(job.failed_matches)),
        el('td', { 'data-label': 'Duration', class: 'num' }, formatElapsed(jobDurationSeconds(job))),
        el('td', { 'data-label': 'Started' }, timeElement(job.started_at || job.created_at)));
    });
    const table = el('table', { class: 'data-table stacking' },
      el('caption', { class: 'visually-hidden', text: `The last ${LIMIT} sync jobs, newest first` }),
      head, el('tbody', {}, rows));
    this.root.replaceChildren(table);
  }
}
