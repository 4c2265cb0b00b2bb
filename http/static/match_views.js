// Match totals (GET /stats/summary) and the recent matches table
// (GET /matches?limit=20).

import { api } from './api.js';
import { el, formatClock, formatDecimal, formatFraction, formatInt, formatDateTime } from './format.js';
import { gameModeName, heroName, lobbyTypeName } from './dota_names.js';

/** Wins over decided games; falls back to the server's win_rate (fraction or percent). */
export function winRateFraction(stats) {
  const wins = Number(stats.wins);
  const losses = Number(stats.losses);
  if (Number.isFinite(wins) && Number.isFinite(losses) && wins + losses > 0) return wins / (wins + losses);
  const rate = Number(stats.win_rate);
  if (!Number.isFinite(rate) || stats.win_rate === null) return null;
  return rate > 1 ? rate / 100 : rate;
}

class Section {
  constructor(root, what) {
    this.root = root;
    this.what = what;
    this.data = null;
    this.error = '';
    this.sequence = 0;
    this.started = false;
  }

  clear() {
    this.sequence += 1;
    this.data = null;
    this.error = '';
    this.started = false;
    this.render();
  }

  async load() {
    const sequence = ++this.sequence;
    this.started = true;
    this.root.setAttribute('aria-busy', 'true');
    try {
      const data = await this.fetch();
      if (sequence !== this.sequence) return;
      this.data = data;
      this.error = '';
    } catch (err) {
      if (sequence !== this.sequence) return;
      this.error = err.status === 401 ? '' : `Could not load ${this.what}: ${err.detail || err.message}`;
    } finally {
      if (sequence === this.sequence) {
        this.root.removeAttribute('aria-busy');
        this.render();
      }
    }
  }

  render() {
    if (this.error) {
      this.root.dataset.state = 'error';
      this.root.replaceChildren(el('p', { class: 'section-error', role: 'alert', text: this.error }));
    } else if (this.data === null) {
      this.root.dataset.state = this.started ? 'loading' : 'waiting';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: this.started ? `Loading ${this.what}…` : 'Waiting for the server…' }));
    } else {
      this.root.dataset.state = 'ready';
      this.renderData(this.data);
    }
  }
}

export class StatsSummary extends Section {
  constructor(root) {
    super(root, 'match totals');
    this.render();
  }

  fetch() {
    return api.stats();
  }

  renderData(stats) {
    const rate = winRateFraction(stats);
    const items = [
      ['total_matches', 'Matches', formatInt(stats.total_matches), stats.total_matches],
      ['wins', 'Wins', formatInt(stats.wins), stats.wins],
      ['losses', 'Losses', formatInt(stats.losses), stats.losses],
      ['win_rate', 'Win rate', formatFraction(rate), rate],
      ['avg_kills', 'Avg kills', formatDecimal(stats.avg_kills), stats.avg_kills],
      ['avg_deaths', 'Avg deaths', formatDecimal(stats.avg_deaths), stats.avg_deaths],
      ['avg_assists', 'Avg assists', formatDecimal(stats.avg_assists), stats.avg_assists],
    ];
    this.root.replaceChildren(el('dl', { class: 'stat-grid' }, items.map(([key, label, text, raw]) =>
      el('div', { class: 'stat', 'data-stat': key },
        el('dt', { text: label }),
        el('dd', { 'data-value': raw === null || raw === undefined ? '' : String(raw), text })))));
  }
}

export class RecentMatches extends Section {
  constructor(root, limit = 20) {
    super(root, 'recent matches');
    this.limit = limit;
    this.render();
  }

  fetch() {
    return api.matches(this.limit, 0);
  }

  renderData(matches) {
    if (!Array.isArray(matches) || matches.length === 0) {
      this.root.dataset.state = 'empty';
      this.root.replaceChildren(el('p', { class: 'placeholder', text: 'No matches stored yet. Run a sync to fetch them.' }));
      return;
    }
    const head = el('thead', {}, el('tr', {},
      [['Played'], ['Hero'], ['Result'], ['K / D / A', 'num'], ['Length', 'num'], ['Mode'], ['Match', 'num'], ['Details']]
        .map(([name, cls]) => el('th', { scope: 'col', class: cls, text: name }))));
    const rows = matches.map((m) => {
      const played = Number.isFinite(Number(m.start_time)) ? new Date(Number(m.start_time) * 1000) : null;
      const won = m.won === true || m.won === false ? m.won : null;
      return el('tr', { 'data-match-id': m.match_id },
        el('td', { 'data-label': 'Played' }, played
          ? el('time', { datetime: played.toISOString(), title: played.toISOString(), text: formatDateTime(played) })
          : '—'),
        el('td', { 'data-label': 'Hero', 'data-hero-id': m.hero_id }, heroName(m.hero_id)),
        el('td', { 'data-label': 'Result' }, won === null ? '—'
          : el('span', { class: 'result', 'data-won': String(won), text: won ? 'Won' : 'Lost' })),
        el('td', { 'data-label': 'K / D / A', class: 'num' },
          `${formatInt(m.kills)} / ${formatInt(m.deaths)} / ${formatInt(m.assists)}`),
        el('td', { 'data-label': 'Length', class: 'num' }, formatClock(m.duration)),
        el('td', { 'data-label': 'Mode' }, `${gameModeName(m.game_mode)} · ${lobbyTypeName(m.lobby_type)}`),
        el('td', { 'data-label': 'Match', class: 'num' }, String(m.match_id)),
        el('td', { 'data-label': 'Details' }, m.has_details ? 'Stored' : el('span', { class: 'muted', text: 'Not yet' })));
    });
    this.root.replaceChildren(el('table', { class: 'data-table stacking' },
      el('caption', { class: 'visually-hidden', text: `The ${this.limit} most recent matches, newest first` }),
      head, el('tbody', {}, rows)));
  }
}
