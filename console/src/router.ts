import { useEffect, useState } from 'preact/hooks';

/**
 * The console's routes live in the path (`/console/appeals/…`), never in the query string or the
 * fragment with personal data: an appeal or a subject is named by its id, a search is a form whose
 * value goes to the API in a POST body. The history API moves between pages without a reload, so the
 * token kept in memory survives navigation.
 */
const listeners = new Set<() => void>();

export function navigate(href: string, replace = false): void {
  const url = new URL(href, location.origin);
  if (replace) history.replaceState(null, '', url.pathname + url.search);
  else history.pushState(null, '', url.pathname + url.search);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const listener = () => setPath(location.pathname);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return path;
}

export interface Match {
  route: string;
  params: Record<string, string>;
}

/** `/console/appeals/:id` and friends; ids are matched as they are written, nothing decoded into HTML. */
export function match(path: string, routes: readonly string[]): Match | null {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const pattern = route.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i]!)), true) : p === parts[i]))) return { route, params };
  }
  return null;
}
