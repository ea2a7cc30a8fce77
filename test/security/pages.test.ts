/** Sessions, CSRF, security headers and brute-force protection of the login, consent and portal pages. */
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { LOCK_AFTER } from '../../src/oauth/throttle-policy';
import { authorizePath, Browser, hiddenFields, pkcePair, signIn } from '../authz-helpers';
import { call, errorOf, seedClient, seedUser, tokenRequest } from '../helpers';

const CB = 'https://app.example/cb';

async function consentForm() {
  const client = await seedClient();
  const user = await seedUser();
  const b = new Browser();
  const { challenge } = await pkcePair();
  const path = authorizePath({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: CB,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  await signIn(b, user.email, user.password, path);
  const res = await b.get(path);
  const html = await res.clone().text();
  return { b, client, user, path, res, html, fields: hiddenFields(html) };
}

describe('session cookie', () => {
  it('is __Host-, HttpOnly, Secure, SameSite=Lax, Path=/, with an expiry', async () => {
    const user = await seedUser();
    const b = new Browser();
    const res = await signIn(b, user.email, user.password);
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/apps');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-session='))!;
    expect(cookie).toBeTruthy();
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=28800/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).not.toContain(user.email);
  });

  it('a tampered cookie is ignored', async () => {
    const user = await seedUser();
    const other = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    // The cookie is "<session id>.<signature>" (issue 10 item 5): put the other user's session id under this signature.
    const value = decodeURIComponent(b.jar.get('__Host-session')!);
    const ob = new Browser();
    await signIn(ob, other.email, other.password);
    const otherId = decodeURIComponent(ob.jar.get('__Host-session')!).split('.')[0];
    const [id, signature] = value.split('.');
    expect(id).not.toBe(otherId);
    b.jar.set('__Host-session', encodeURIComponent(`${otherId}.${signature}`));
    const res = await b.get('/apps');
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toMatch(/^\/login/);
  });

  it('expires server-side after 8 hours, whatever the browser keeps', async () => {
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    expect((await b.get('/apps')).status).toBe(200);
    const start = Date.now();
    clock.now = () => start + 8 * 3600 * 1000 + 1000;
    expect((await b.get('/apps')).status).toBe(302);
  });

  it('sign-out clears it', async () => {
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    const out = await b.post('/logout', { csrf: b.csrf() });
    expect(out.status).toBe(303);
    expect(b.jar.has('__Host-session')).toBe(false);
    expect((await b.get('/apps')).status).toBe(302);
  });
});

describe('CSRF', () => {
  it('refuses the consent form without the token, and issues no code', async () => {
    const { b, fields } = await consentForm();
    const { csrf: _drop, ...rest } = fields;
    const res = await b.post('/oauth2/authorize', { ...rest, decision: 'allow' });
    expect(res.status).toBe(403);
    expect(res.headers.get('Location')).toBeNull();
    expect(await res.text()).toMatch(/sent from another site/);
  });

  it('refuses a wrong token', async () => {
    const { b, fields } = await consentForm();
    const res = await b.post('/oauth2/authorize', { ...fields, csrf: 'A'.repeat(43), decision: 'allow' });
    expect(res.status).toBe(403);
  });

  it('refuses a post from another origin even with the token', async () => {
    const { b, fields } = await consentForm();
    const res = await b.post(
      '/oauth2/authorize',
      { ...fields, decision: 'allow' },
      { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    );
    expect(res.status).toBe(403);
  });

  it('accepts Origin: null, which browsers send under Referrer-Policy: no-referrer', async () => {
    const { b, fields } = await consentForm();
    const res = await b.post('/oauth2/authorize', { ...fields, decision: 'allow' }, { Origin: 'null' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('Location')!).searchParams.get('code')).toBeTruthy();
  });

  it('refuses a forged form from a browser without the CSRF cookie', async () => {
    const { fields } = await consentForm();
    const stranger = new Browser();
    const res = await stranger.post('/oauth2/authorize', { ...fields, decision: 'allow' });
    expect(res.status).toBe(403);
  });

  it('protects the login, logout and portal forms too', async () => {
    const user = await seedUser();
    const b = new Browser();
    await b.get('/login');
    expect((await b.post('/login', { email: user.email, password: user.password })).status).toBe(403);
    await signIn(b, user.email, user.password);
    expect((await b.post('/apps', { name: 'x', redirect_uris: CB, scope_base: '1' })).status).toBe(403);
    expect((await b.post('/logout', {})).status).toBe(403);
  });
});

describe('security headers', () => {
  it('every page has a strict CSP, no-referrer, no caching and no CORS', async () => {
    const { res } = await consentForm();
    const csp = res.headers.get('Content-Security-Policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("form-action 'self' https://app.example");
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('pages carry no inline script or style', async () => {
    const { html } = await consentForm();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/ style=/i);
    expect(html).not.toMatch(/ on[a-z]+=/i);
    expect(html).toContain('href="/assets/style.css"');
    const css = await call('/assets/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toMatch(/^text\/css/);
  });

  it('redirects to the client carry no-referrer too, and no CORS even when asked', async () => {
    const client = await seedClient();
    const res = await call(authorizePath({ response_type: 'token', client_id: client.id, redirect_uri: CB }), {
      redirect: 'manual',
      headers: { Origin: 'https://evil.example' },
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const preflight = await call('/oauth2/authorize', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('login page', () => {
  it('says in words when the password is wrong', async () => {
    const user = await seedUser();
    const b = new Browser();
    const res = await signIn(b, user.email, 'wrong password');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('The email address or password is incorrect.');
  });

  it('shares the brute-force lock with the password grant', async () => {
    const user = await seedUser();
    const b = new Browser();
    for (let i = 0; i < LOCK_AFTER - 1; i++) expect((await signIn(b, user.email, `wrong ${i}`)).status).toBe(401);
    const locked = await signIn(b, user.email, 'wrong again');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await locked.text()).toMatch(/Too many failed attempts/);
    // even the right password is refused now, at the page and at the token endpoint
    expect((await signIn(b, user.email, user.password)).status).toBe(429);
    const client = await seedClient();
    const grant = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      { client },
    );
    expect((await errorOf(grant)).error).toBe('invalid_grant');
    expect(grant.headers.get('Retry-After')).toBeTruthy();
  });

  it('never redirects off-site after sign-in', async () => {
    const user = await seedUser();
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const b = new Browser();
      const res = await signIn(b, user.email, user.password, next);
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe('/apps');
    }
  });

  it('names the app when signing in for an authorization request', async () => {
    const client = await seedClient({ name: 'Film Finder' });
    const { challenge } = await pkcePair();
    const next = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const res = await call(`/login?next=${encodeURIComponent(next)}`);
    expect(await res.text()).toContain('Sign in to continue to <strong>Film Finder</strong>');
    expect(res.headers.get('Content-Security-Policy')).toContain("form-action 'self' https://app.example");
  });
});
