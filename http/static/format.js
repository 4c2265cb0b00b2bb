// Formatting shared by every panel: numbers through Intl.NumberFormat, the
// API's ISO-8601 UTC timestamps in the reader's local time, durations.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const monthYear = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });

function finite(value) {
  const n = Number(value);
  return value !== null && value !== undefined && value !== '' && Number.isFinite(n) ? n : null;
}

export function formatInt(value) {
  const n = finite(value);
  return n === null ? '—' : integer.format(n);
}

export function formatDecimal(value) {
  const n = finite(value);
  return n === null ? '—' : oneDecimal.format(n);
}

/** A fraction (0.5) as a percentage ("50.0%"). */
export function formatFraction(value) {
  const n = finite(value);
  return n === null ? '—' : percent.format(n);
}

/** A percentage value (13.3) as "13.3%". */
export function formatPercentValue(value) {
  const n = finite(value);
  return n === null ? '—' : percent.format(n / 100);
}

/** Parses an API timestamp; a value without a zone is taken as UTC. */
export function parseTimestamp(value) {
  if (!value) return null;
  let text = String(value);
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function formatDateTime(date) {
  return date ? dateTime.format(date) : '—';
}

export function formatDate(date) {
  return date ? dateOnly.format(date) : '—';
}

/** A UTC calendar day, for chart axes ("Mar 3"). */
export function formatUtcDay(date) {
  return shortDate.format(date);
}

export function formatUtcMonth(date) {
  return monthYear.format(date);
}

/** Seconds as "1h 02m", "4m 05s" or "12s". */
export function formatElapsed(seconds) {
  const s = finite(seconds);
  if (s === null || s < 0) return '—';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${integer.format(h)}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** A match length in seconds as "38:07". */
export function formatClock(seconds) {
  const s = finite(seconds);
  if (s === null || s < 0) return '—';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Creates an element with attributes and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'id' || key === 'title'
      || key === 'datetime' || key === 'scope' || key === 'tabindex' || key === 'colspan') node.setAttribute(key, value === true ? '' : String(value));
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A <time> element showing a timestamp in local time, with the UTC value as datetime. */
export function timeElement(value) {
  const date = parseTimestamp(value);
  if (!date) return el('span', { text: '—' });
  return el('time', { datetime: date.toISOString(), title: date.toISOString(), text: formatDateTime(date) });
}
