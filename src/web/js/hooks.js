// Small hooks shared by the views.
import { useEffect, useState, useCallback, useRef } from 'preact/hooks';
import { api } from './api.js';

/** The current time, re-rendering every `periodMs` (ages that tick). */
export function useNow(periodMs = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] ?? '', arg: parts[1] ?? null };
}

/** `#/alerts/12` → { view: 'alerts', arg: '12' }: views are addressable, so a link in a message can open one. */
export function useHashRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(view, arg) {
  location.hash = `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
}

/**
 * GET a path and keep its answer: { data, error, loading, reload }. `refreshMs` re-fetches on a timer (without
 * blanking what is shown); a null path fetches nothing.
 */
export function useApi(path, { refreshMs } = {}) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: path !== null });
  const seq = useRef(0);
  const load = useCallback(async () => {
    if (path === null) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await api(path);
      if (mine === seq.current) setState({ data, error: undefined, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, [path]);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: path !== null });
    load();
    if (!refreshMs) return undefined;
    const t = setInterval(load, refreshMs);
    return () => {
      clearInterval(t);
      seq.current++;
    };
  }, [load, refreshMs]);
  return { ...state, reload: load };
}
