// The JSON API client: one place that adds the token, parses {"detail": ...}
// errors and reports 401s, so the rest of the page only sees values or ApiError.

const TOKEN_KEY = 'matchsync.token';

/** An HTTP or network failure; `status` is 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

export function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Private mode without storage: the token lives for this page only.
  }
  memoryToken = token;
}

export function forgetToken() {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
  memoryToken = '';
}

let memoryToken = storedToken();
let unauthorizedHandler = () => {};

/** The token sent with every request ('' when none). */
export function currentToken() {
  return memoryToken;
}

/** Called with the ApiError of every 401 answer (except explicit token checks). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** Headers for a request; `token` overrides the stored one ('' sends none). */
export function authHeaders(token = memoryToken) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function detailOf(response, body) {
  if (body && typeof body === 'object' && typeof body.detail === 'string' && body.detail) {
    return body.detail;
  }
  const reason = response.statusText ? ` ${response.statusText}` : '';
  return `HTTP ${response.status}${reason}`;
}

// At most this many API requests at once (the event stream is separate): the
// server holds a thread per open connection, so a tab should not open many.
const MAX_IN_FLIGHT = 3;
let inFlight = 0;
const waiting = [];

async function withSlot(fn) {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise((resolve) => waiting.push(resolve));
  inFlight += 1;
  try {
    return await fn();
  } finally {
    inFlight -= 1;
    const next = waiting.shift();
    if (next) next();
  }
}

/** Ends a message with one full stop: "Is it running?" stays as it is. */
export function sentence(text) {
  const t = String(text || '').trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * Sends one request. Resolves with the parsed JSON body of a 2xx answer,
 * rejects with ApiError otherwise.
 *   options.body   - a value sent as JSON
 *   options.token  - use this token instead of the stored one (no 401 hook)
 *   options.signal - an AbortSignal
 */
export function request(method, path, options = {}) {
  return withSlot(() => send(method, path, options));
}

async function send(method, path, options) {
  const explicitToken = Object.prototype.hasOwnProperty.call(options, 'token');
  const headers = { Accept: 'application/json', ...authHeaders(explicitToken ? options.token : memoryToken) };
  const init = { method, headers, signal: options.signal, cache: 'no-store' };
  if (options.body !== undefined || method !== 'GET') {
    // Every POST says JSON: with auth off the server refuses any other
    // (a form post from another site must not act for the user).
    headers['Content-Type'] = 'application/json';
  }
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the matchsync server. Is it running?');
  }
  let body;
  try {
    body = await readBody(response);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(response.status, 'The connection broke while reading the answer.');
  }
  if (response.ok) {
    if (body !== null && typeof body !== 'object') {
      throw new ApiError(response.status, `Unexpected answer from ${path} (not JSON).`);
    }
    return body;
  }
  const error = new ApiError(response.status, detailOf(response, body), body);
  if (response.status === 401 && !explicitToken) unauthorizedHandler(error);
  throw error;
}

export const api = {
  status: (options) => request('GET', '/sync/status', options),
  trigger: (jobType) => request('POST', '/sync/trigger', { body: { job_type: jobType } }),
  cancel: (jobId) => request('POST', `/sync/cancel/${encodeURIComponent(jobId)}`),
  job: (jobId) => request('GET', `/sync/jobs/${encodeURIComponent(jobId)}`),
  jobs: (limit = 10) => request('GET', `/sync/jobs?limit=${limit}`),
  matches: (limit = 50, offset = 0) => request('GET', `/matches?limit=${limit}&offset=${offset}`),
  stats: () => request('GET', '/stats/summary'),
  schedule: () => request('GET', '/sync/schedule'),
  setSchedule: (enabled, intervalMinutes) =>
    request('PUT', '/sync/schedule', { body: { enabled, interval_minutes: intervalMinutes } }),
};
