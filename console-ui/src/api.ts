/** The console server's API as the pages use it: the session, JSON reads and writes, live streams. */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Session {
  mode: 'local' | 'cluster';
  signedIn: boolean;
  user?: string;
  groups?: string[];
  csrf: string;
  problem?: string;
}

let csrf = '';

export async function loadSession(): Promise<Session> {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  const session = (await response.json()) as Session;
  csrf = session.csrf;
  return session;
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  // A refusal is shown as the API server (or the console) worded it.
  if (!response.ok) throw new Error(body.message ?? `${response.status} ${response.statusText}`);
  return body as T;
}

export async function getJson<T>(path: string, params: Record<string, string>): Promise<T> {
  return answer<T>(
    await fetch(`${path}?${new URLSearchParams(params).toString()}`, { credentials: 'same-origin' }),
  );
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    }),
  );
}

export type Listeners = Record<string, (data: never) => void>;

/**
 * Follows a server-sent event stream while the component shows; `onOpen` runs on every
 * (re)connection, before the stream sends its snapshot again.
 */
export function useStream(url: string | undefined, listeners: Listeners, onOpen?: () => void): boolean {
  const current = useRef({ listeners, onOpen });
  current.current = { listeners, onOpen };
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!url) return undefined;
    const source = new EventSource(url);
    source.onopen = () => {
      setConnected(true);
      current.current.onOpen?.();
    };
    source.onerror = () => {
      setConnected(false);
    };
    for (const name of Object.keys(listeners)) {
      source.addEventListener(name, (event) => {
        current.current.listeners[name]?.(JSON.parse((event as MessageEvent<string>).data) as never);
      });
    }
    return () => {
      source.close();
    };
    // The listeners are read through the ref: only a new URL makes a new stream.
  }, [url]);
  return connected;
}

/** Re-renders every `ms` (ages and running durations tick on between changes). */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, ms);
    return () => {
      clearInterval(timer);
    };
  }, [ms]);
  return now;
}
