/** Helpers for the authorization-code flow tests: a tiny browser (cookie jar) and PKCE pairs. */

import { randomToken } from '../src/lib/random';
import { s256 } from '../src/oauth/pkce';
import { call, ORIGIN } from './helpers';

/** A cookie-keeping client that sends what a same-origin browser form would (Origin, Sec-Fetch-Site). */
export class Browser {
  readonly jar = new Map<string, string>();

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size > 0) headers.set('Cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await call(path, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  /** Posts a form as the browser would from one of our pages. */
  post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: ORIGIN,
        'Sec-Fetch-Site': 'same-origin',
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });
  }

  csrf(): string {
    const v = this.jar.get('__Host-csrf');
    if (!v) throw new Error('no CSRF cookie yet');
    return v;
  }
}

/** Hidden form fields of a page, by name. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    out[m[1]] = m[2]
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  }
  return out;
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomToken(32);
  return { verifier, challenge: await s256(verifier) };
}

export function authorizePath(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `/oauth2/authorize?${q.toString()}`;
}

/** Signs in through the login page; returns the 303 response. */
export async function signIn(browser: Browser, email: string, password: string, next = '/apps'): Promise<Response> {
  const page = await browser.get(`/login?next=${encodeURIComponent(next)}`);
  await page.text();
  return browser.post('/login', { csrf: browser.csrf(), next, email, password });
}

/** Query parameters of a redirect Location. */
export function locationParams(res: Response): URLSearchParams {
  const loc = res.headers.get('Location');
  if (!loc) throw new Error(`no Location (status ${res.status})`);
  return new URL(loc).searchParams;
}

export interface FlowOptions {
  redirectUri?: string | null;
  scope?: string;
  state?: string;
  pkce?: boolean;
  browser?: Browser;
  /** RFC 8707 `resource` (issue 13). */
  resource?: string;
}

/**
 * Runs authorize → sign in → consent (Allow) and returns the redirect back to the client.
 * A fresh browser unless one is given (then an existing session and consent are reused).
 */
export async function authorizeFlow(
  client: { id: string },
  user: { email: string; password: string },
  options: FlowOptions = {},
): Promise<{
  code: string;
  state: string | null;
  iss: string | null;
  location: string;
  verifier: string | null;
  browser: Browser;
}> {
  const b = options.browser ?? new Browser();
  const { verifier, challenge } = await pkcePair();
  const usePkce = options.pkce ?? true;
  const path = authorizePath({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: options.redirectUri === null ? undefined : (options.redirectUri ?? 'https://app.example/cb'),
    scope: options.scope,
    state: options.state ?? 'st-123',
    code_challenge: usePkce ? challenge : undefined,
    code_challenge_method: usePkce ? 'S256' : undefined,
    resource: options.resource,
  });
  let res = await b.get(path);
  if (res.status === 302 && res.headers.get('Location')!.startsWith('/login?')) {
    res = await signIn(b, user.email, user.password, path);
    if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
    res = await b.get(res.headers.get('Location')!);
  }
  if (res.status === 200) {
    const fields = hiddenFields(await res.text());
    res = await b.post('/oauth2/authorize', { ...fields, decision: 'allow' });
  }
  const location = res.headers.get('Location');
  if (!location || (res.status !== 302 && res.status !== 303))
    throw new Error(`expected a redirect, got ${res.status}: ${await res.text()}`);
  const q = new URL(location).searchParams;
  const code = q.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return { code, state: q.get('state'), iss: q.get('iss'), location, verifier: usePkce ? verifier : null, browser: b };
}
