/**
 * CSRF protection for every form (OWASP double-submit cookie, plus a same-origin check):
 * a random value in a `__Host-csrf` cookie (a sibling site cannot set a `__Host-` cookie) must be echoed in
 * the form's hidden `csrf` field, and the browser's Origin / Sec-Fetch-Site headers, when sent, must say the
 * form came from this origin.
 */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { randomToken, timingSafeEqualStrings } from '../lib/random';
import type { AppEnv } from '../types';
import { PageError } from './page-error';

const CSRF_COOKIE = 'csrf';

/** The CSRF token for the forms of this page; sets the cookie when the browser has none yet. */
export function csrfToken(c: Context<AppEnv>): string {
  const existing = getCookie(c, CSRF_COOKIE, 'host');
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomToken(32);
  setCookie(c, CSRF_COOKIE, token, { prefix: 'host', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
  return token;
}

/** Throws a 403 page unless the form carries the cookie's token and came from this origin. */
export async function assertCsrf(c: Context<AppEnv>, form: Map<string, string>): Promise<void> {
  const refused = new PageError(
    403,
    'This form could not be accepted',
    'The form has expired or was sent from another site. Go back, reload the page and try again.',
  );
  const origin = c.req.header('Origin');
  // Our pages send `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` on form posts
  // (Fetch §3.2.5), so "null" proves nothing either way; Sec-Fetch-Site and the token still apply.
  if (origin !== undefined && origin !== 'null' && origin !== new URL(c.get('config').issuer).origin) throw refused;
  const site = c.req.header('Sec-Fetch-Site');
  if (site !== undefined && site !== 'same-origin') throw refused;
  const cookie = getCookie(c, CSRF_COOKIE, 'host');
  const field = form.get('csrf');
  if (!cookie || !field || !(await timingSafeEqualStrings(cookie, field))) throw refused;
}
