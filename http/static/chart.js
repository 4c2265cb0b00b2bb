// Matches played per week over the synced history, drawn as an SVG bar chart
// at the container's real pixel width (so text stays readable on a phone).
// Weeks start on Monday, 00:00 UTC. When there are more weeks than the width
// can show as bars, consecutive weeks are grouped and the caption says so.

import { api } from './api.js';
import { el, formatInt, formatUtcDay, formatUtcMonth } from './format.js';

const PAGE = 500;
const CAP = 5000;
const DAY_MS = 86400000;
const WEEK_MS = 7 * DAY_MS;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Monday 00:00 UTC of the week holding a unix time (seconds), in ms. */
export function weekStartMs(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return midnight - ((date.getUTCDay() + 6) % 7) * DAY_MS;
}

/** [{start, count}] for every week from the first match to the last, gaps as 0. */
export function weeklyCounts(matches) {
  const counts = new Map();
  for (const m of matches) {
    const t = Number(m.start_time);
    if (!Number.isFinite(t) || t <= 0) continue;
    const week = weekStartMs(t);
    counts.set(week, (counts.get(week) || 0) + 1);
  }
  if (counts.size === 0) return [];
  const keys = [...counts.keys()];
  const first = Math.min(...keys);
  const last = Math.max(...keys);
  const weeks = [];
  for (let start = first; start <= last; start += WEEK_MS) weeks.push({ start, count: counts.get(start) || 0 });
  return weeks;
}

/** Groups consecutive weeks k at a time: [{start, end, count}], end exclusive. */
export function groupWeeks(weeks, k) {
  const groups = [];
  for (let i = 0; i < weeks.length; i += k) {
    const slice = weeks.slice(i, i + k);
    groups.push({ start: slice[0].start, end: slice[slice.length - 1].start + WEEK_MS, count: slice.reduce((s, w) => s + w.count, 0) });
  }
  return groups;
}

function niceCeiling(value) {
  if (value <= 4) return Math.max(1, Math.ceil(value));
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function svg(tag, attributes = {}, text = '') {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text) node.textContent = text;
  return node;
}

export class WeeklyChart {
  constructor(root, caption) {
    this.root = root;
    this.caption = caption;
    this.weeks = null;
    this.matchCount = 0;
    this.capped = false;
    this.error = '';
    this.sequence = 0;
    this.started = false;
    this.lastWidth = 0;
    this.render();
    if (typeof ResizeObserver === 'function') {
      this.observer = new ResizeObserver(() => {
        const width = Math.floor(this.root.clientWidth);
        if (width !== this.lastWidth) this.render();
      });
      this.observer.observe(this.root);
    }
  }

  clear() {
    this.sequence += 1;
    this.weeks = null;
    this.error = '';
    this.started = false;
    this.render();
  }

  async load() {
    const sequence = ++this.sequence;
    this.started = true;
    this.root.setAttribute('aria-busy', 'true');
    const matches = [];
    try {
      for (let offset = 0; offset < CAP; offset += PAGE) {
        const page = await api.matches(Math.min(PAGE, CAP - offset), offset);
        if (sequence !== this.sequence) return;
        if (!Array.isArray(page)) break;
        matches.push(...page);
        if (page.length < PAGE) break;
      }
      this.capped = matches.length >= CAP;
      this.matchCount = matches.length;
      this.weeks = weeklyCounts(matches);
      this.error = '';
    } catch (err) {
      if (sequence !== this.sequence) return;
      this.error = err.status === 401 ? '' : `Could not load matches for the chart: ${err.detail || err.message}`;
    } finally {
      if (sequence === this.sequence) {
        this.root.removeAttribute('aria-busy');
        this.render();
      }
    }
  }

  setCaption(text) {
    this.caption.textContent = text;
  }

  render() {
    this.lastWidth = Math.floor(this.root.clientWidth);
    if (this.error) {
      this.root.dataset.state = 'error';
      this.root.replaceChildren(el('p', { class: 'section-error', role: 'alert', text: this.error }));
      this.setCaption('');
      return;
    }
    if (!this.weeks) {
      this.root.dataset.state = this.started ? 'loading' : 'waiting';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: this.started ? 'Loading matches…' : 'Waiting for the server…' }));
      this.setCaption('');
      return;
    }
    this.root.dataset.matches = String(this.matchCount);
    this.root.dataset.weeks = String(this.weeks.length);
    if (this.weeks.length === 0) {
      this.root.dataset.state = 'empty';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: 'No matches stored yet.' }));
      this.setCaption('');
      return;
    }
    this.root.dataset.state = 'ready';
    this.draw();
  }

  draw() {
    const width = Math.max(240, this.lastWidth || 600);
    const height = width < 480 ? 170 : 200;
    const margin = { top: 12, right: 8, bottom: 24, left: 40 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const k = Math.max(1, Math.ceil(this.weeks.length / Math.floor(plotW / 3)));
    const groups = groupWeeks(this.weeks, k);
    const maxCount = Math.max(...groups.map((g) => g.count));
    const top = niceCeiling(maxCount);
    const slot = plotW / groups.length;
    const gap = slot >= 6 ? Math.min(3, slot * 0.2) : 0;
    const first = new Date(groups[0].start);
    const lastStart = new Date(this.weeks[this.weeks.length - 1].start);
    const spanWeeks = this.weeks.length;
    const dateLabel = spanWeeks > 26 ? formatUtcMonth : formatUtcDay;
    const unit = k === 1 ? 'week' : `${k} weeks`;
    const busiest = groups.reduce((best, g) => (g.count > best.count ? g : best), groups[0]);

    const summary = `${formatInt(this.matchCount)} matches over ${formatInt(spanWeeks)} weeks, `
      + `${formatUtcDay(first)} ${first.getUTCFullYear()} to ${formatUtcDay(lastStart)} ${lastStart.getUTCFullYear()}. `
      + `Busiest ${k === 1 ? 'week' : 'period'}: ${formatInt(busiest.count)} matches.`;

    const root = svg('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-labelledby': 'weekly-chart-title weekly-chart-desc', class: 'chart-svg',
    });
    root.append(svg('title', { id: 'weekly-chart-title' }, `Matches per ${unit}`));
    root.append(svg('desc', { id: 'weekly-chart-desc' }, summary));

    const y = (value) => margin.top + plotH - (value / top) * plotH;
    for (const tick of [0, top / 2, top]) {
      if (tick !== Math.round(tick) && tick !== 0) continue;
      root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), class: 'chart-grid' }));
      root.append(svg('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'chart-label' }, formatInt(tick)));
    }
    const bars = svg('g', { class: 'chart-bars' });
    groups.forEach((g, i) => {
      const h = (g.count / top) * plotH;
      const rect = svg('rect', {
        x: margin.left + i * slot + gap / 2, y: margin.top + plotH - h,
        width: Math.max(1, slot - gap), height: Math.max(0, h), 'data-count': g.count,
      });
      const from = new Date(g.start);
      const to = new Date(g.end - DAY_MS);
      const when = k === 1 ? `Week of ${formatUtcDay(from)} ${from.getUTCFullYear()}`
        : `${formatUtcDay(from)} ${from.getUTCFullYear()} – ${formatUtcDay(to)} ${to.getUTCFullYear()}`;
      rect.append(svg('title', {}, `${when}: ${formatInt(g.count)} matches`));
      bars.append(rect);
    });
    root.append(bars);
    const baseline = margin.top + plotH;
    root.append(svg('text', { x: margin.left, y: baseline + 17, 'text-anchor': 'start', class: 'chart-label' }, dateLabel(first)));
    if (groups.length > 1) {
      root.append(svg('text', { x: width - margin.right, y: baseline + 17, 'text-anchor': 'end', class: 'chart-label' }, dateLabel(lastStart)));
    }
    this.root.replaceChildren(root);

    let caption = summary;
    if (k > 1) caption += ` Each bar is ${k} weeks.`;
    if (this.capped) caption += ` Only the most recent ${formatInt(CAP)} matches are charted.`;
    this.setCaption(caption);
  }
}
