// A small in-memory imitation of the matchsync HTTP API (SPEC §4) and its
// static dashboard, used only to check the page and the browser scenarios
// without the C++ server. Jobs advance on a timer: a listing phase that grows
// total_matches page by page, then a details phase, one match per tick.
// It is not the contract: the real `matchsync serve` is what the browser test
// is meant to run against.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const STATIC_DIR = path.resolve(here, '../../http/static');

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json' };

/** A deterministic history of `count` matches, newest first, one every ~2.5 days. */
function makeUpstream(count, seed = 7) {
  let x = seed;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const now = Math.floor(Date.UTC(2026, 10, 20) / 1000);
  const matches = [];
  let t = now;
  for (let i = 0; i < count; i += 1) {
    t -= Math.floor(3600 * (6 + rand() * 110));
    const slot = rand() < 0.5 ? Math.floor(rand() * 5) : 128 + Math.floor(rand() * 5);
    const radiantWin = rand() < 0.5;
    matches.push({
      match_id: 8000000000 - i * 977,
      start_time: t,
      duration: 1200 + Math.floor(rand() * 2400),
      hero_id: 1 + Math.floor(rand() * 120),
      player_slot: slot,
      radiant_win: radiantWin,
      won: (slot < 128) === radiantWin,
      kills: Math.floor(rand() * 20),
      deaths: Math.floor(rand() * 12),
      assists: Math.floor(rand() * 25),
      game_mode: rand() < 0.7 ? 22 : 23,
      lobby_type: rand() < 0.6 ? 7 : 0,
    });
  }
  return matches;
}

function iso(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function startStandIn({ token = '', tickMs = 100, pageSize = 20, matchCount = 240, host = '127.0.0.1' } = {}) {
  const upstream = makeUpstream(matchCount);
  const stored = new Map(); // match_id -> match (+ has_details)
  const jobs = [];
  const clients = new Set();
  let nextId = 1;
  let timer = null;
  // GET/PUT /sync/schedule: one user, off until set (the due time is not
  // the real phase rule, only a time within one interval).
  let schedule = { enabled: false, interval_minutes: 60, next_run_at: null, last_run_job_id: null };

  const active = () => jobs.find((j) => j.status === 'pending' || j.status === 'running') || null;
  const publish = (job) => {
    const frame = `event: job\ndata: ${JSON.stringify(job)}\n\n`;
    for (const res of clients) res.write(frame);
  };
  const percent = (job) => (job.total_matches ? Math.round((job.processed_matches / job.total_matches) * 1000) / 10 : 0);

  function finish(job, status, error = null) {
    job.status = status;
    job.phase = null;
    job.completed_at = iso(Date.now());
    job.error_message = error;
    if (status === 'completed') job.progress_percentage = 100;
    job.plan = undefined;
  }

  function tick() {
    const job = active();
    if (!job) return;
    if (job.status === 'pending') {
      job.status = 'running';
      job.phase = 'listing';
      job.started_at = iso(Date.now());
      job.plan = { offset: 0, queue: [] };
    } else if (job.phase === 'listing') {
      const page = upstream.slice(job.plan.offset, job.plan.offset + pageSize);
      let reachedKnown = false;
      for (const m of page) {
        const known = stored.get(m.match_id);
        if (job.job_type === 'incremental_sync' && known && known.complete_prefix) {
          reachedKnown = true;
          break;
        }
        if (!known) {
          stored.set(m.match_id, { ...m, has_details: false });
          job.new_matches += 1;
        }
        if (job.job_type === 'full_sync' || !stored.get(m.match_id).has_details) job.plan.queue.push(m.match_id);
      }
      job.total_matches = job.plan.queue.length;
      job.plan.offset += pageSize;
      if (reachedKnown || page.length < pageSize) {
        if (job.job_type === 'incremental_sync') {
          for (const m of stored.values()) {
            if (!m.has_details && !job.plan.queue.includes(m.match_id)) job.plan.queue.push(m.match_id);
          }
          job.total_matches = job.plan.queue.length;
        }
        job.phase = 'details';
      }
    } else if (job.phase === 'details') {
      const id = job.plan.queue[job.processed_matches];
      if (id === undefined) {
        for (const m of stored.values()) m.complete_prefix = true;
        finish(job, 'completed');
      } else {
        stored.get(id).has_details = true;
        job.processed_matches += 1;
      }
    }
    if (job.status !== 'completed') job.progress_percentage = percent(job);
    publish(view(job));
  }

  const view = (job) => {
    const { plan, ...rest } = job;
    return rest;
  };

  function send(res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(text);
  }

  function limitOf(url, max, fallback, res) {
    const raw = url.searchParams.get('limit');
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > max) {
      send(res, 422, { detail: `limit must be between 1 and ${max}` });
      return null;
    }
    return n;
  }

  async function readJson(req) {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (!body.trim()) return {};
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  }

  async function serveStatic(req, res, pathname) {
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
    const file = path.resolve(STATIC_DIR, relative);
    if (!file.startsWith(STATIC_DIR + path.sep)) return send(res, 404, { detail: 'Not Found' });
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    } catch {
      send(res, 404, { detail: 'Not Found' });
    }
  }

  const API = [
    ['POST', /^\/sync\/trigger$/], ['POST', /^\/sync\/cancel\/(\d+)$/], ['GET', /^\/sync\/status$/],
    ['GET', /^\/sync\/jobs$/], ['GET', /^\/sync\/jobs\/(\d+)$/], ['GET', /^\/sync\/events$/],
    ['GET', /^\/matches$/], ['GET', /^\/stats\/summary$/],
    ['GET', /^\/sync\/schedule$/], ['PUT', /^\/sync\/schedule$/],
  ];

  async function handle(req, res) {
    const url = new URL(req.url, 'http://stand-in');
    const route = API.find(([method, re]) => method === req.method && re.test(url.pathname));
    if (!route) {
      if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'ok' });
      const apiLike = /^\/(sync|stats)(\/|$)|^\/matches(\/|$)/.test(url.pathname);
      if (req.method === 'GET' && !apiLike) return serveStatic(req, res, url.pathname);
      return send(res, 404, { detail: 'Not Found' });
    }
    if (token && req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { detail: 'Invalid or missing token' });
    const match = url.pathname.match(route[1]);
    const p = url.pathname;

    if (p === '/sync/trigger') {
      const body = await readJson(req);
      if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
        return send(res, 422, { detail: 'Request body must be a JSON object' });
      }
      const type = body.job_type ?? 'incremental_sync';
      if (type !== 'incremental_sync' && type !== 'full_sync') return send(res, 422, { detail: `Unknown job_type: ${type}` });
      const current = active();
      if (current) return send(res, 409, { detail: 'A sync job is already active', active_job: view(current) });
      const job = {
        id: nextId++, account_id: 86745912, job_type: type, status: 'pending', phase: null, resume_at: null,
        triggered_by: 'user',
        total_matches: 0, processed_matches: 0, new_matches: 0, updated_matches: 0, failed_matches: 0,
        progress_percentage: 0, node: 'stand-in', attempt: 1, created_at: iso(Date.now()), started_at: null,
        completed_at: null, cancel_requested_at: null, error_message: null,
      };
      jobs.unshift(job);
      publish(view(job));
      return send(res, 201, view(job));
    }
    if (p.startsWith('/sync/cancel/')) {
      const job = jobs.find((j) => j.id === Number(match[1]));
      if (!job) return send(res, 404, { detail: 'Sync job not found' });
      if (job.status !== 'pending' && job.status !== 'running') {
        return send(res, 400, { detail: `Cannot cancel job with status: ${job.status}` });
      }
      job.cancel_requested_at = iso(Date.now());
      finish(job, 'cancelled', 'Cancelled by user');
      publish(view(job));
      return send(res, 200, view(job));
    }
    if (p === '/sync/schedule' && req.method === 'GET') return send(res, 200, schedule);
    if (p === '/sync/schedule') {
      const body = await readJson(req);
      if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
        return send(res, 422, { detail: 'Request body must be a JSON object' });
      }
      if (typeof body.enabled !== 'boolean') return send(res, 422, { detail: 'enabled must be true or false' });
      const interval = body.interval_minutes ?? schedule.interval_minutes;
      if (!Number.isInteger(interval) || interval < 15 || interval > 10080) {
        return send(res, 422, { detail: 'interval_minutes must be an integer from 15 to 10080' });
      }
      const same = schedule.enabled && schedule.interval_minutes === interval && schedule.next_run_at;
      const next = !body.enabled ? null : same ? schedule.next_run_at : iso(Date.now() + interval * 60000);
      schedule = { enabled: body.enabled, interval_minutes: interval, next_run_at: next,
        last_run_job_id: schedule.last_run_job_id };
      return send(res, 200, schedule);
    }
    if (p === '/sync/status') {
      const job = active();
      return send(res, 200, { is_syncing: Boolean(job), active_job: job ? view(job) : null });
    }
    if (p === '/sync/jobs') {
      const limit = limitOf(url, 100, 10, res);
      if (limit === null) return undefined;
      return send(res, 200, jobs.slice(0, limit).map(view));
    }
    if (p.startsWith('/sync/jobs/')) {
      const job = jobs.find((j) => j.id === Number(match[1]));
      return job ? send(res, 200, view(job)) : send(res, 404, { detail: 'Sync job not found' });
    }
    if (p === '/sync/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      clients.add(res);
      const heartbeat = setInterval(() => res.write(': keepalive\n\n'), 5000);
      req.on('close', () => {
        clearInterval(heartbeat);
        clients.delete(res);
      });
      return undefined;
    }
    if (p === '/matches') {
      const limit = limitOf(url, 500, 50, res);
      if (limit === null) return undefined;
      const offset = Number(url.searchParams.get('offset') || 0);
      const list = [...stored.values()].sort((a, b) => b.match_id - a.match_id).slice(offset, offset + limit)
        .map(({ complete_prefix, ...m }) => m);
      return send(res, 200, list);
    }
    if (p === '/stats/summary') {
      const all = [...stored.values()];
      const n = all.length;
      const wins = all.filter((m) => m.won).length;
      const avg = (key) => (n ? Math.round((all.reduce((s, m) => s + m[key], 0) / n) * 100) / 100 : 0);
      return send(res, 200, { total_matches: n, wins, losses: n - wins, win_rate: n ? wins / n : 0,
        avg_kills: avg('kills'), avg_deaths: avg('deaths'), avg_assists: avg('assists') });
    }
    return send(res, 404, { detail: 'Not Found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { detail: String(err) }));
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  timer = setInterval(tick, tickMs);
  const { port } = server.address();
  return {
    url: `http://${host}:${port}`,
    /** Ends the event streams so the page sees a dropped connection. */
    dropStreams() {
      for (const res of clients) res.destroy();
      clients.clear();
    },
    async close() {
      clearInterval(timer);
      for (const res of clients) res.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// `node stand_in_server.mjs [token]` serves until interrupted, for looking at the page by hand.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const standIn = await startStandIn({ token: process.argv[2] || '' });
  console.log(`stand-in matchsync API and dashboard at ${standIn.url}/`);
  process.on('SIGINT', () => standIn.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => standIn.close().then(() => process.exit(0)));
}
