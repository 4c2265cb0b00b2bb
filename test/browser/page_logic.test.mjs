// Unit tests of the page's pure logic (no browser, no server): the SSE parser,
// the reconnection backoff, the weekly buckets of the chart, the win rate.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JobStream, SseParser, backoffDelay } from '../../http/static/sse.js';
import { groupWeeks, weekStartMs, weeklyCounts } from '../../http/static/chart.js';
import { winRateFraction } from '../../http/static/match_views.js';
import { givesWayToTrigger } from '../../http/static/dota_names.js';

function parseAll(chunks) {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('SseParser', () => {
  const job = JSON.stringify({ id: 42, status: 'running' });

  it('reads a named event with one data line', () => {
    assert.deepEqual(parseAll([`event: job\ndata: ${job}\n\n`]), [{ type: 'job', data: job, id: '' }]);
  });

  it('skips heartbeat comments', () => {
    assert.deepEqual(parseAll([': keepalive\n\n', `: hi\nevent: job\ndata: ${job}\n\n`, ':\n\n']),
      [{ type: 'job', data: job, id: '' }]);
  });

  it('joins an event split at every possible chunk boundary', () => {
    const text = `event: job\r\ndata: ${job}\r\n\r\n: ping\r\n\r\nevent: job\ndata: {"id":43}\n\n`;
    for (let i = 0; i <= text.length; i += 1) {
      const events = parseAll([text.slice(0, i), text.slice(i)]);
      assert.deepEqual(events.map((e) => e.data), [job, '{"id":43}'], `split at ${i}`);
    }
  });

  it('takes one character at a time, with CR, LF and CRLF line ends', () => {
    const text = `event: job\rdata: a\r\ndata: b\n\ndata:c\r\r`;
    assert.deepEqual(parseAll([...text]), [
      { type: 'job', data: 'a\nb', id: '' },
      { type: 'message', data: 'c', id: '' },
    ]);
  });

  it('drops an event that never ended and data-less events', () => {
    assert.deepEqual(parseAll(['event: job\n\n', 'event: job\ndata: x']), []);
  });

  it('keeps id and retry, strips one space and a leading BOM', () => {
    const parser = new SseParser();
    const events = parser.push('\uFEFFid: 7\nretry: 2500\ndata:  two spaces\n\n');
    assert.deepEqual(events, [{ type: 'message', data: ' two spaces', id: '7' }]);
    assert.equal(parser.retry, 2500);
  });
});

describe('JobStream.dispatch', () => {
  it('hands job events to onJob and wait events to onWait, and drops malformed ones', () => {
    const jobs = [];
    const waits = [];
    const stream = new JobStream({ onJob: (j) => jobs.push(j), onWait: (w) => waits.push(w) });
    stream.dispatch({ type: 'job', data: '{"id":7,"status":"running"}' });
    stream.dispatch({ type: 'wait', data: '{"job_id":7,"reason":"rate_limited","seconds":2,"waits":1}' });
    stream.dispatch({ type: 'wait', data: '{"job_id":7}' });
    stream.dispatch({ type: 'wait', data: 'not json' });
    stream.dispatch({ type: 'other', data: '{"id":8,"status":"running"}' });
    assert.deepEqual(jobs.map((j) => j.id), [7]);
    assert.deepEqual(waits, [{ job_id: 7, reason: 'rate_limited', seconds: 2, waits: 1 }]);
  });
});

describe('backoffDelay', () => {
  it('doubles from 1 s, stays within [ceiling/2, ceiling] and caps at 15 s', () => {
    assert.equal(backoffDelay(0, { random: () => 1 }), 1000);
    assert.equal(backoffDelay(0, { random: () => 0 }), 500);
    assert.equal(backoffDelay(3, { random: () => 1 }), 8000);
    assert.equal(backoffDelay(40, { random: () => 1 }), 15000);
  });
});

describe('weekly chart buckets', () => {
  it('starts weeks on Monday 00:00 UTC', () => {
    const sunday = Date.UTC(2026, 2, 8, 23, 59) / 1000; // Sunday 8 March 2026
    const monday = Date.UTC(2026, 2, 9, 0, 0) / 1000;
    assert.equal(weekStartMs(sunday), Date.UTC(2026, 2, 2));
    assert.equal(weekStartMs(monday), Date.UTC(2026, 2, 9));
  });

  it('counts per week and fills empty weeks with zero', () => {
    const at = (y, m, d) => ({ start_time: Date.UTC(y, m, d, 12) / 1000 });
    const weeks = weeklyCounts([at(2026, 2, 10), at(2026, 2, 11), at(2026, 2, 25), { start_time: null }]);
    assert.deepEqual(weeks.map((w) => w.count), [2, 0, 1]);
    assert.equal(weeks[0].start, Date.UTC(2026, 2, 9));
    assert.deepEqual(weeklyCounts([]), []);
  });

  it('groups weeks k at a time', () => {
    const weeks = [1, 2, 3, 4, 5].map((count, i) => ({ start: i * 7 * 86400000, count }));
    assert.deepEqual(groupWeeks(weeks, 2).map((g) => g.count), [3, 7, 5]);
  });
});

describe('winRateFraction', () => {
  it('prefers wins and losses, else reads win_rate as a fraction or a percentage', () => {
    assert.equal(winRateFraction({ wins: 3, losses: 1, win_rate: 99 }), 0.75);
    assert.equal(winRateFraction({ wins: 0, losses: 0, win_rate: 0.5 }), 0.5);
    assert.equal(winRateFraction({ win_rate: 62.5 }), 0.625);
    assert.equal(winRateFraction({ wins: 0, losses: 0, win_rate: null }), null);
  });
});

describe('quotaWaitText', () => {
  it('says in words that the daily limit is used up and when the sync goes on, in local time', async () => {
    const { quotaWaitText } = await import('../../http/static/panel.js');
    const text = quotaWaitText('2026-12-04T00:00:00Z');
    const local = new Date(Date.UTC(2026, 11, 4, 0, 0)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    assert.equal(text, `OpenDota's daily limit is used up; this sync goes on at ${local} your time`);
  });
});

describe('givesWayToTrigger', () => {
  const scheduled = { triggered_by: 'schedule', status: 'running', phase: 'details', cancel_requested_at: null };

  it('is true for a scheduled job that is pending or parked in a quota wait', () => {
    assert.equal(givesWayToTrigger({ ...scheduled, status: 'pending', phase: null }), true);
    assert.equal(givesWayToTrigger({ ...scheduled, phase: 'waiting_quota' }), true);
  });

  it('is false for a working scheduled job, a user\'s job, one being cancelled, an ended one or none', () => {
    assert.equal(givesWayToTrigger(scheduled), false);
    assert.equal(givesWayToTrigger({ ...scheduled, triggered_by: 'user', status: 'pending' }), false);
    assert.equal(givesWayToTrigger({ ...scheduled, phase: 'waiting_quota', cancel_requested_at: '2026-12-04T19:00:00Z' }), false);
    assert.equal(givesWayToTrigger({ ...scheduled, status: 'cancelled', phase: null }), false);
    assert.equal(givesWayToTrigger(null), false);
  });
});
