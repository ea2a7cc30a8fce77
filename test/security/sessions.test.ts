/**
 * Issue 10 item 5: browser sessions end on the server (ASVS V3.3.1, V3.3.3). The cookie carries a random session id;
 * D1 holds only its hash. A copied cookie stops working on every page that reads the session (portal, login,
 * authorization endpoint) after sign-out, an administrator's password reset, and disabling the user (even once the
 * user is enabled again).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { authorizePath, Browser, pkcePair, signIn } from '../authz-helpers';
import { seedClient, seedUser } from '../helpers';
import { admin, freezeClock, json } from '../ops-helpers';

/** A second browser holding a copy of `b`'s cookies (a stolen or copied session cookie). */
function copyOf(b: Browser): Browser {
  const copy = new Browser();
  for (const [k, v] of b.jar) copy.jar.set(k, v);
  return copy;
}

async function signedIn() {
  const user = await seedUser();
  const b = new Browser();
  const res = await signIn(b, user.email, user.password);
  expect(res.status).toBe(303);
  return { user, b, thief: copyOf(b) };
}

/** Asserts the browser's session works: the portal answers with its page. */
async function expectSignedIn(b: Browser): Promise<void> {
  const res = await b.get('/apps');
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('Sign out');
}

/** Asserts the browser's session has ended, on each page that reads it. */
async function expectSignedOut(b: Browser, clientId: string): Promise<void> {
  const apps = await b.get('/apps');
  expect(apps.status).toBe(302);
  expect(apps.headers.get('Location')).toBe('/login?next=%2Fapps');
  const login = await b.get('/login?next=%2Fapps');
  expect(login.status).toBe(200); // the sign-in form, not a redirect onwards
  expect(login.headers.get('Content-Type')).toContain('text/html');
  expect(await login.text()).toContain('name="password"');
  const { challenge } = await pkcePair();
  const authz = await b.get(
    authorizePath({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://app.example/cb',
      scope: 'base',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }),
  );
  expect(authz.status).toBe(302);
  expect(authz.headers.get('Location')).toMatch(/^\/login\?next=%2Foauth2%2Fauthorize%3F/);
}

describe('sessions end on the server (issue 10 item 5)', () => {
  it('the cookie carries an opaque id; D1 stores only its hash', async () => {
    const { user, b } = await signedIn();
    const cookie = decodeURIComponent(b.jar.get('__Host-session')!);
    expect(cookie).not.toContain(user.id);
    const id = cookie.slice(0, cookie.lastIndexOf('.'));
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await env.DB.prepare('SELECT hash FROM sessions WHERE user_id = ?1')
      .bind(user.id)
      .all<{ hash: string }>();
    expect(rows.results).toEqual([{ hash: await sha256(id) }]);
  });

  it('sign-out ends the session: a copied cookie stops working, on every page', async () => {
    const client = await seedClient();
    const { b, thief } = await signedIn();
    await expectSignedIn(thief);
    const out = await b.post('/logout', { csrf: b.csrf() });
    expect(out.status).toBe(303);
    expect(out.headers.get('Location')).toBe('/login');
    await expectSignedOut(b, client.id);
    await expectSignedOut(thief, client.id);
  });

  it("sign-out ends only the current session; the user's other sign-ins go on", async () => {
    const { user, b } = await signedIn();
    const phone = new Browser();
    await signIn(phone, user.email, user.password);
    await b.post('/logout', { csrf: b.csrf() });
    await expectSignedIn(phone);
  });

  it("an administrator's password reset ends every session of the user", async () => {
    const client = await seedClient();
    const { user, b, thief } = await signedIn();
    const other = new Browser();
    await signIn(other, user.email, user.password);
    await json(await admin('POST', `/users/${user.id}/password`, { password: 'a new long password' }), 200);
    for (const x of [b, thief, other]) await expectSignedOut(x, client.id);
    // The new password signs in again, with a new session.
    const again = new Browser();
    expect((await signIn(again, user.email, 'a new long password')).status).toBe(303);
    await expectSignedIn(again);
  });

  it('disabling the user ends every session, and enabling them again does not bring it back', async () => {
    const client = await seedClient();
    const { user, thief } = await signedIn();
    await json(await admin('POST', `/users/${user.id}/disable`), 200);
    await expectSignedOut(thief, client.id);
    await json(await admin('POST', `/users/${user.id}/enable`), 200);
    await expectSignedOut(thief, client.id);
    const { n } = (await env.DB.prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1')
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it('a session expires after 8 hours on the server, whatever the cookie says', async () => {
    const advance = freezeClock();
    const client = await seedClient();
    const { thief } = await signedIn();
    advance(8 * 3600 - 60);
    await expectSignedIn(thief);
    advance(120);
    await expectSignedOut(thief, client.id);
  });
});
