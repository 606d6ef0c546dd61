// GET api/stream (Server-Sent Events, WHATWG HTML §9.2) read with fetch, because EventSource cannot send the
// Authorization header. Reconnects with backoff; a stream silent for longer than three server heartbeats
// (15 s each) is treated as dead, so a big screen behind a flaky network never freezes unnoticed.
import { authHeaders } from './api.js';

const SILENCE_MS = 50_000;

/**
 * onOpen() each time the stream is (re)connected, so the caller can catch up on what it missed;
 * onEvent(type, data) per event; onState('connecting' | 'live' | 'down'); onUnauthorized() on 401 (no retry).
 */
export function openStream({ onOpen, onEvent, onState, onUnauthorized }) {
  let stopped = false;
  let ctrl;
  let retryMs = 1000;

  async function once() {
    ctrl = new AbortController();
    let timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ctrl.abort(), SILENCE_MS);
    };
    try {
      onState('connecting');
      arm();
      const res = await fetch('api/stream', { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: ctrl.signal, cache: 'no-store' });
      if (res.status === 401) {
        stopped = true;
        onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      retryMs = 1000;
      onState('live');
      onOpen();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        buf += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, end));
          buf = buf.slice(end + 2);
        }
      }
    } catch {
      // Network error or abort: reconnect below unless closed.
    } finally {
      clearTimeout(timer);
    }
  }

  function dispatch(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Math.max(1000, Number(value));
    }
    if (!data.length) return;
    try {
      onEvent(type, JSON.parse(data.join('\n')));
    } catch {
      // A malformed event is skipped, never fatal.
    }
  }

  (async () => {
    while (!stopped) {
      await once();
      if (stopped) break;
      onState('down');
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, 15_000);
    }
  })();

  return {
    close() {
      stopped = true;
      ctrl?.abort();
    },
  };
}
