/**
 * Outbound-fetch interception for the documents a client names (Client ID Metadata Documents, jwks_uri): the test
 * serves them by replacing the isolate's global `fetch` (the product and the tests share the isolate), so the product
 * keeps its one rule, https only, with no switch that allows http or a local test server. Any URL the test did not
 * route fails as an unreachable host would (TypeError), and every request is recorded.
 */
import { afterEach, vi } from 'vitest';

export type Route = (req: Request) => Response | Promise<Response>;

export interface Outbound {
  /** Every outbound request, in order. */
  requests: Request[];
  /** Adds or replaces the answer for one exact URL. */
  route(url: string, handler: Route): void;
}

/** A JSON answer with the given Cache-Control (none when null). */
export function jsonDocument(body: unknown, init: { cacheControl?: string; status?: number; type?: string } = {}) {
  const headers: Record<string, string> = { 'Content-Type': init.type ?? 'application/json' };
  if (init.cacheControl) headers['Cache-Control'] = init.cacheControl;
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: init.status ?? 200, headers });
}

/** Intercepts outbound fetches for the rest of the test (restored after each test). */
export function interceptOutbound(routes: Record<string, Route> = {}): Outbound {
  const table = new Map(Object.entries(routes));
  const requests: Request[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    requests.push(req);
    const handler = table.get(req.url);
    if (!handler) throw new TypeError(`Network connection lost (no test route for ${req.url})`);
    if (req.signal.aborted) throw req.signal.reason;
    // Race the handler against the request's own signal, as a real slow server would be raced.
    return await new Promise<Response>((resolve, reject) => {
      req.signal.addEventListener('abort', () => reject(req.signal.reason), { once: true });
      Promise.resolve(handler(req)).then(resolve, reject);
    });
  });
  return { requests, route: (url, handler) => table.set(url, handler) };
}

afterEach(() => {
  vi.unstubAllGlobals();
});
