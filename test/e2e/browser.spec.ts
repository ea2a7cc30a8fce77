/**
 * The whole story in a real browser (Debian's Chromium driven by playwright-core): a developer registers an
 * app in the portal → the app sends a user to /oauth2/authorize → sign in → consent → back to the app's
 * redirect URL with a code → the app exchanges it → /v1/me. Screenshots of the login and consent pages go
 * to test/e2e/screenshots/ (git-ignored).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWorker, type WorkerServer } from './worker-server';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, 'screenshots');

let server: WorkerServer;
let app: Server;
let appOrigin: string;
let context: BrowserContext;
let profile: string;

/** The third-party app's redirect target: a tiny page on a loopback port. */
async function startApp(): Promise<void> {
  const port = await freePort();
  appOrigin = `http://127.0.0.1:${port}`;
  app = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      `<!DOCTYPE html><title>Movie Night</title><h1>Back in Movie Night</h1><p id="url">${req.url?.replace(/[<>&"]/g, '')}</p>`,
    );
  });
  await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [server] = await Promise.all([startWorker(), startApp()]);
  profile = mkdtempSync(join(tmpdir(), 'edge-oauth-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 412, height: 915 }, // a phone
  });
});

afterAll(async () => {
  await context?.close();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('browser: register an app, authorize, sign in, consent, token, /v1/me', () => {
  it('works end to end', async () => {
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });

    // 1. The developer signs in to the portal and registers an app.
    await page.goto(`${server.origin}/apps`);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
    await signIn(page, server.user.email, server.user.password);
    await page.waitForURL(`${server.origin}/apps`);

    // The __Host- session cookie works on http://localhost (Chromium treats localhost as a secure context).
    const cookie = (await context.cookies(server.origin)).find((c) => c.name === '__Host-session');
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });

    await page.getByRole('link', { name: 'Register a new application' }).click();
    await page.getByLabel('Application name').fill('Movie Night');
    await page.getByLabel(/^Site URL/).fill('https://movies.example');
    await page.getByLabel(/^Description/).fill('Picks a film for tonight from your library.');
    await page.getByLabel(/^Redirect URLs/).fill(`${appOrigin}/callback`);
    await page.getByLabel(/Only view your images and files/).check();
    await page.screenshot({ path: join(SHOTS, 'portal-register.png'), fullPage: true });
    await page.getByRole('button', { name: 'Register application' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Application registered');
    const clientId = (await page.locator('#client-id').textContent())!;
    const clientSecret = (await page.locator('#client-secret').textContent())!;
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: join(SHOTS, 'portal-credentials.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.origin}/login`);

    // 2. The app sends a user to the authorization endpoint.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(16).toString('base64url');
    const authorize = new URL(`${server.origin}/oauth2/authorize`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: `${appOrigin}/callback`,
      scope: 'base files',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })) {
      authorize.searchParams.set(k, v);
    }
    await page.goto(authorize.href);
    await expect.poll(() => page.locator('main').textContent()).toContain('Sign in to continue to Movie Night');
    await page.screenshot({ path: join(SHOTS, 'login.png'), fullPage: true });

    // 3. Sign in, then the consent page.
    await signIn(page, server.user.email, server.user.password);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Allow Movie Night to use your account?');
    const consentText = (await page.locator('main').textContent())!;
    expect(consentText).toContain('Read and change your resources and files');
    expect(consentText).toContain('Only view your images and files');
    await page.screenshot({ path: join(SHOTS, 'consent.png'), fullPage: true });

    // 4. Allow: the browser lands on the app's redirect URL with the code, state and iss.
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.origin === appOrigin);
    const back = new URL(page.url());
    expect(back.pathname).toBe('/callback');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(server.origin);
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // 5. The app's server exchanges the code, then calls the API.
    const tokenRes = await fetch(`${server.origin}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${appOrigin}/callback`,
        code_verifier: verifier,
      }),
    });
    expect(tokenRes.status).toBe(200);
    const tokens = (await tokenRes.json()) as { access_token: string; refresh_token?: string; scope: string };
    expect(tokens.scope).toBe('base files');
    expect(tokens.refresh_token).toBeTruthy();
    const me = await fetch(`${server.origin}/v1/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ type: 'user', email: server.user.email, client_id: clientId });

    // 6. The user finds the app among the ones they allowed.
    await page.goto(`${server.origin}/apps`);
    await expect.poll(() => page.locator('main').textContent()).toContain('Applications you have allowed');
    expect(await page.locator('main').textContent()).toContain('Movie Night');
    await page.screenshot({ path: join(SHOTS, 'portal-apps.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });

  it("the README's walkthrough: the demo client's code flow ends on /demo/callback, whose curl exchanges the code", async () => {
    await context.clearCookies(); // a newcomer, not signed in yet
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const port = new URL(server.origin).port;
    const callback = `http://127.0.0.1:${port}/demo/callback`;
    // The README's URL: RFC 7636 Appendix B's challenge.
    await page.goto(
      `${server.origin}/oauth2/authorize?response_type=code&client_id=demo-client&redirect_uri=${encodeURIComponent(callback)}&scope=base&state=demo&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`,
    );
    await signIn(page, server.user.email, server.user.password);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Allow Demo app to use your account?');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${callback}?`));
    expect(await page.locator('h1').textContent()).toBe('An authorization code came back');
    const code = new URL(page.url()).searchParams.get('code')!;
    const shown = (await page.locator('#response').textContent())!;
    expect(shown).toContain(code);
    expect(shown).toContain(`iss${server.origin}`);
    await page.screenshot({ path: join(SHOTS, 'demo-callback.png'), fullPage: true });

    // What the page's curl sends: client_secret_basic and the form fields it lists.
    const curl = (await page.locator('#curl').textContent())!;
    expect(curl).toContain(`'${server.origin}/oauth2/token'`);
    const fields = [...curl.matchAll(/--data-urlencode '([^=]+)=([^']*)'/g)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(fields)).toEqual({
      code,
      redirect_uri: callback,
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });
    const tokenRes = await fetch(`${server.origin}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${server.demoClient.id}:${server.demoClient.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams([['grant_type', 'authorization_code'], ...fields]),
    });
    expect(tokenRes.status).toBe(200);
    expect(((await tokenRes.json()) as { scope: string }).scope).toBe('base');
    expect(cspViolations).toEqual([]);
  });

  it('OpenID Connect sign-in: login_hint prefilled, claims named on the consent page, an ID token with the nonce', async () => {
    await context.clearCookies();
    const page = await context.newPage();
    const port = new URL(server.origin).port;
    const callback = `http://127.0.0.1:${port}/demo/callback`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'demo-client',
      redirect_uri: callback,
      scope: 'openid email',
      state: 'oidc',
      nonce: 'n-browser',
      login_hint: server.user.email,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await page.goto(`${server.origin}/oauth2/authorize?${q}`);
    expect(await page.getByLabel('Email address').inputValue()).toBe(server.user.email); // login_hint
    await page.getByLabel('Password').fill(server.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Allow Demo app to use your account?');
    const scopes = (await page.locator('ul.scopes').textContent())!;
    expect(scopes).toContain('Know who you are on this server');
    expect(scopes).toContain('See your email address');
    await page.screenshot({ path: join(SHOTS, 'oidc-consent.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${callback}?`));
    const code = new URL(page.url()).searchParams.get('code')!;
    const tokenRes = await fetch(`${server.origin}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${server.demoClient.id}:${server.demoClient.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback,
        code_verifier: verifier,
      }),
    });
    expect(tokenRes.status).toBe(200);
    const tokens = (await tokenRes.json()) as { id_token: string; access_token: string };
    const [header, payload] = tokens.id_token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.typ).toBe('JWT');
    expect(['RS256', 'ES256']).toContain(header.alg); // RS256 unless an older .dev.vars has no RSA key
    expect(payload).toMatchObject({ iss: server.origin, aud: 'demo-client', nonce: 'n-browser' });
    const info = await fetch(`${server.origin}/oauth2/userinfo`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(((await info.json()) as { email: string }).email).toBe(server.user.email);
  });

  it('shows an error page, and does not redirect, for an unregistered redirect URL', async () => {
    const page = await context.newPage();
    const url = `${server.origin}/oauth2/authorize?response_type=code&client_id=demo-client&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&state=x`;
    const res = await page.goto(url);
    expect(res?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(server.origin);
    expect(await page.locator('h1').textContent()).toBe('Wrong return address');
    await page.screenshot({ path: join(SHOTS, 'error-redirect-uri.png'), fullPage: true });
  });
});
