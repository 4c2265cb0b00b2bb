// The "Keep my matches in sync" card: GET/PUT /sync/schedule. The next run is
// shown in the user's own time zone (the browser's), never in UTC.

import { api } from './api.js';

export function nextRunText(schedule, locale = undefined, timeZone = undefined) {
  if (!schedule || !schedule.enabled) return 'Automatic sync is off.';
  if (!schedule.next_run_at) return 'Automatic sync is on.';
  const when = new Date(schedule.next_run_at);
  const text = when.toLocaleString(locale, {
    weekday: 'short', hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short',
  });
  return `Next automatic sync: ${text}.`;
}

export class ScheduleCard {
  constructor(root) {
    this.root = root;
    this.enabled = root.querySelector('#schedule-enabled');
    this.interval = root.querySelector('#schedule-interval');
    this.next = root.querySelector('#schedule-next');
    this.error = root.querySelector('#schedule-error');
    this.sequence = 0;
    this.enabled.addEventListener('change', () => this.save());
    this.interval.addEventListener('change', () => this.save());
    this.setBusy(true);
  }

  setBusy(busy) {
    this.enabled.disabled = busy;
    this.interval.disabled = busy;
  }

  show(schedule) {
    this.enabled.checked = Boolean(schedule.enabled);
    const minutes = String(schedule.interval_minutes);
    if (![...this.interval.options].some((o) => o.value === minutes)) {
      this.interval.append(new Option(`${minutes} minutes`, minutes));
    }
    this.interval.value = minutes;
    this.next.textContent = nextRunText(schedule);
    this.root.dataset.enabled = String(Boolean(schedule.enabled));
  }

  fail(err) {
    this.error.textContent = `Could not ${err.save ? 'save' : 'load'} the schedule: ${err.detail || err.message}`;
    this.error.hidden = false;
  }

  async load() {
    const sequence = ++this.sequence;
    try {
      const schedule = await api.schedule();
      if (sequence !== this.sequence) return;
      this.error.hidden = true;
      this.show(schedule);
    } catch (err) {
      if (sequence !== this.sequence || err.status === 401) return;
      this.fail(err);
    } finally {
      if (sequence === this.sequence) this.setBusy(false);
    }
  }

  async save() {
    const sequence = ++this.sequence;
    this.setBusy(true);
    try {
      const schedule = await api.setSchedule(this.enabled.checked, Number(this.interval.value));
      if (sequence !== this.sequence) return;
      this.error.hidden = true;
      this.show(schedule);
    } catch (err) {
      if (sequence !== this.sequence) return;
      err.save = true;
      this.fail(err);
      this.load();
    } finally {
      if (sequence === this.sequence) this.setBusy(false);
    }
  }
}
