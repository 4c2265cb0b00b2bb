// Server-Sent Events over fetch(): EventSource cannot send an Authorization
// header, so the page reads /sync/events itself. SseParser is pure (no DOM, no
// network) and is unit-tested under node; JobStream adds the connection,
// a silence watchdog and reconnection with backoff.

/**
 * Incremental parser for the text/event-stream format (WHATWG HTML §9.2.6).
 * push() takes decoded text in chunks of any size and returns the events that
 * became complete: [{ type, data, id }]. Comment lines are skipped.
 */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.lastEventId = '';
    this.retry = null;
    this.started = false;
    this.skipLeadingLf = false;
  }

  push(text) {
    const events = [];
    if (!text) return events;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text[0] === '\n') text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      this.line(this.buffer.slice(start, i), events);
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i += 1;
        } else {
          // A CR at the end of a chunk: its LF, if any, starts the next chunk.
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line, events) {
    if (line === '') {
      if (this.data.length > 0) {
        events.push({ type: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId });
      }
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line[0] === ':') return; // comment, e.g. a heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored, as the format requires
    }
  }
}

/** Reconnection delay in ms for the n-th consecutive failure (0-based). */
export function backoffDelay(attempt, { baseMs = 1000, capMs = 15000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * A live connection to /sync/events that delivers each `job` event's SyncJob.
 *   url            - the stream's path
 *   headers()      - extra request headers (the Authorization header)
 *   onJob(job)     - every SyncJob received
 *   onWait(notice) - every `wait` event: {job_id, reason, seconds, waits}
 *   onState(state, detail) - 'connecting' | 'open' | 'down' | 'stopped'
 *   onUnauthorized()       - the stream answered 401; the stream stops
 */
export class JobStream {
  constructor({ url = '/sync/events', headers = () => ({}), onJob, onWait = () => {}, onState = () => {},
    onUnauthorized = () => {}, silenceMs = 45000 }) {
    this.url = url;
    this.headers = headers;
    this.onJob = onJob;
    this.onWait = onWait;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.silenceMs = silenceMs;
    this.generation = 0;
    this.controller = null;
    this.wakeTimer = null;
    this.wake = null;
    this.state = 'stopped';
  }

  start() {
    if (this.state !== 'stopped') return;
    this.generation += 1;
    this.run(this.generation);
  }

  stop() {
    this.generation += 1;
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
    this.setState('stopped');
  }

  /**
   * Reconnects at once if the stream is down and waiting out its backoff:
   * called when the server is known to answer again, so live updates do not
   * resume up to a backoff period (15 s) later than they could.
   */
  retryNow() {
    if (this.state === 'down' && this.wake) this.wake();
  }

  setState(state, detail = '') {
    if (this.state === state && state !== 'down') return;
    this.state = state;
    this.onState(state, detail);
  }

  sleep(ms) {
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.wakeTimer);
        this.wake = null;
        resolve();
      };
      this.wakeTimer = setTimeout(this.wake, ms);
    });
  }

  async run(generation) {
    let failures = 0;
    while (generation === this.generation) {
      this.setState('connecting');
      const controller = new AbortController();
      this.controller = controller;
      let watchdog = null;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), this.silenceMs);
      };
      let opened = false;
      try {
        arm();
        const response = await fetch(this.url, {
          headers: { Accept: 'text/event-stream', ...this.headers() },
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401) {
          clearTimeout(watchdog);
          if (generation === this.generation) {
            this.stop();
            this.onUnauthorized();
          }
          return;
        }
        const type = response.headers.get('content-type') || '';
        if (!response.ok || !response.body || !type.includes('text/event-stream')) {
          throw new Error(response.ok ? 'the server did not answer with an event stream' : `HTTP ${response.status}`);
        }
        opened = true;
        failures = 0;
        this.setState('open');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser();
        for (;;) {
          arm();
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            if (generation !== this.generation) return;
            this.dispatch(event);
          }
        }
        throw new Error('the event stream ended');
      } catch (err) {
        if (generation !== this.generation) return;
        const reason = err && err.name === 'AbortError' ? 'no data from the event stream' : (err && err.message) || 'error';
        this.setState('down', reason);
      } finally {
        clearTimeout(watchdog);
      }
      const delay = opened ? backoffDelay(0) : backoffDelay(failures);
      failures += 1;
      await this.sleep(delay);
    }
  }

  dispatch(event) {
    if (event.type !== 'job' && event.type !== 'message' && event.type !== 'wait') return;
    let body;
    try {
      body = JSON.parse(event.data);
    } catch {
      return; // a malformed event must not stop the stream
    }
    if (!body || typeof body !== 'object') return;
    if (event.type === 'wait') {
      if (body.job_id !== undefined && body.reason) this.onWait(body);
    } else if (body.id !== undefined && body.status) {
      this.onJob(body);
    }
  }
}
