/**
 * Sign-in and sign-out for the consent and portal pages. Same users and brute-force protection as the
 * password grant (src/services/password-login.ts). After a POST the browser is redirected with 303.
 */
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { collectParams, formActionSource, validateAuthorizationRequest } from '../services/authorization-request';
import { checkUserPassword } from '../services/password-login';
import { endSession } from '../services/sessions';
import type { AppEnv } from '../types';
import { assertCsrf, csrfToken } from '../ui/csrf';
import { LoginPage } from '../ui/login';
import { page, pageApp, readPageForm, setFormAction } from '../ui/render';
import { clearSessionCookie, readSession, sessionHash, startSession } from '../ui/session';

/** Mounted at /login. */
export const loginRoutes = pageApp();
/** Mounted at /logout. */
export const logoutRoutes = pageApp();

type Ctx = Context<AppEnv>;
const DEFAULT_NEXT = '/apps';

/** Only a path on this server (never `//host` or `/\host`): the login page is not an open redirector. */
export function safeNext(next: string | undefined): string {
  if (!next || next.length > 4096 || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
    return DEFAULT_NEXT;
  return /^[\x21-\x7e]+$/.test(next) ? next : DEFAULT_NEXT;
}

/** When signing in for an authorization request: the app's name, and its redirect target for the CSP. */
async function authorizationContext(
  c: Ctx,
  next: string,
): Promise<{ appName: string | null; formAction: string | null; loginHint: string | null }> {
  const none = { appName: null, formAction: null, loginHint: null };
  if (!next.startsWith('/oauth2/authorize?')) return none;
  const { params, repeated } = collectParams(new URLSearchParams(next.slice(next.indexOf('?') + 1)));
  const outcome = await validateAuthorizationRequest(c.env, c.get('config').issuer, params, repeated);
  if (outcome.kind === 'page') return none;
  // An error is also sent to the client after sign-in (RFC 9700 §4.11.2), through the same redirect chain.
  const { client, redirectUri } = outcome.kind === 'ok' ? outcome.request : outcome;
  // OpenID Connect Core §3.1.2.1 login_hint: prefills the email field (only a hint; the user may change it).
  const hint = params.get('login_hint')?.slice(0, 254) ?? null;
  return { appName: client.name, formAction: formActionSource(redirectUri), loginHint: hint };
}

async function loginPage(c: Ctx, next: string, status: number, email?: string, error?: string): Promise<Response> {
  const ctx = await authorizationContext(c, next);
  setFormAction(c, [ctx.formAction]);
  const prefill = email ?? ctx.loginHint ?? undefined;
  return page(
    c,
    LoginPage({ csrf: csrfToken(c), next, email: prefill, error, appName: ctx.appName }) as JSX.Element,
    status,
  );
}

loginRoutes.get('/', async (c) => {
  const next = safeNext(c.req.query('next'));
  // force=1: the authorization endpoint asks for a fresh sign-in (OpenID Connect prompt=login, max_age).
  if (c.req.query('force') !== '1' && (await readSession(c))) return c.redirect(next, 302);
  return loginPage(c, next, 200);
});

loginRoutes.post('/', async (c) => {
  const { params } = await readPageForm(c);
  await assertCsrf(c, params);
  const next = safeNext(params.get('next'));
  const email = (params.get('email') ?? '').trim();
  const password = params.get('password') ?? '';
  if (!email || !password) return loginPage(c, next, 400, email, 'Enter your email address and your password.');
  const result = await checkUserPassword(c.env.DB, email, password, {
    via: 'login_page',
    actor: null,
    requestId: c.get('requestId'),
  });
  if (!result.ok) {
    if (result.retryAfter > 0) {
      c.header('Retry-After', String(result.retryAfter));
      const minutes = Math.max(1, Math.ceil(result.retryAfter / 60));
      return loginPage(
        c,
        next,
        429,
        email,
        `Too many failed attempts for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      );
    }
    if (result.reason === 'disabled')
      return loginPage(c, next, 403, email, 'This account is disabled. Contact your administrator.');
    return loginPage(c, next, 401, email, 'The email address or password is incorrect.');
  }
  await startSession(c, result.user.id, result.resetThrottle ? [result.resetThrottle] : []);
  return c.redirect(next, 303);
});

logoutRoutes.post('/', async (c) => {
  const { params } = await readPageForm(c);
  await assertCsrf(c, params);
  // Ends this session on the server (every copy of the cookie with it), not only in this browser (issue 10 item 5).
  const hash = await sessionHash(c);
  if (hash) await endSession(c.env, hash);
  clearSessionCookie(c);
  return c.redirect('/login', 303);
});
