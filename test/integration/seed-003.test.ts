/**
 * Issue 11: every request of seed 003 (/work/shared/seeds/003_…, an OAuth 2 overview), replayed as the document writes
 * it with only the host replaced. The document's `https://auth-server/auth` and `https://auth-server/token` name the
 * authorization and token endpoints of a generic server; here they are the ones this server publishes in its RFC 8414
 * metadata (`/oauth2/authorize`, `/oauth2/token`). `https://app/cb` is the app's redirect URL and `GET https://api/…`
 * with `Authorization: Bearer` is "the API": this server's `/v1/me`.
 *
 * Where the document shows what we refuse on purpose, the answer is a clear RFC error saying what to do instead:
 * - credentials, codes and passwords in the token URL's query string (RFC 6749 §3.2 POST, RFC 9700 §4.3.1: URLs leak
 *   through logs, history and Referer): invalid_request "send it in the … request body"; the same parameters in the
 *   body then work, and the refused request consumed nothing;
 * - the implicit flow ("Abandonné", RFC 9700 §2.1.2): unsupported_response_type.
 * Its code flow has no PKCE: that works for a confidential client an administrator registered with require_pkce false.
 */
import { describe, expect, it } from 'vitest';
import { authorizeFlow, Browser, signIn } from '../authz-helpers';
import { call, errorOf, seedUser } from '../helpers';
import { admin, json, me } from '../ops-helpers';

const SUCCESS = 'https://app.example/cb';
const FAILURE = 'https://app.example/cb/failed';

/**
 * The endpoints as the document writes them, `https://auth-server/auth` and `https://auth-server/token`, with only the
 * host replaced: aliases of the published /oauth2/authorize and /oauth2/token (src/app.ts).
 */
async function endpoints(): Promise<{ auth: string; token: string }> {
  const meta = await json<{ authorization_endpoint: string; token_endpoint: string }>(
    await call('/.well-known/oauth-authorization-server'),
    200,
  );
  expect([new URL(meta.authorization_endpoint).pathname, new URL(meta.token_endpoint).pathname]).toEqual([
    '/oauth2/authorize',
    '/oauth2/token',
  ]);
  return { auth: '/auth', token: '/token' };
}

/**
 * Step 1 of the document, "l'enregistrement de l'application": name, site URL, description, logo, success and failure
 * redirect URLs give a client id and secret. Registered by the administrator with the switches the document's flows
 * need: no PKCE (item 3) and client_secret_post (its token requests carry client_id and client_secret as parameters).
 */
async function registerApp(): Promise<{ id: string; secret: string }> {
  const created = await json<Record<string, unknown>>(
    await admin('POST', '/clients', {
      client_name: 'My Movies',
      client_uri: 'https://app.example',
      description: 'Films you have seen',
      logo_uri: 'https://app.example/logo.png',
      redirect_uris: [SUCCESS, FAILURE],
      grant_types: ['authorization_code', 'password', 'client_credentials'],
      scope: 'base',
      token_endpoint_auth_method: 'client_secret_post',
      require_pkce: false,
    }),
    201,
  );
  expect(created).toMatchObject({
    client_name: 'My Movies',
    redirect_uris: [SUCCESS, FAILURE],
    require_pkce: false,
    client_secret: expect.stringMatching(/^[\w-]{43}$/),
  });
  return { id: created.client_id as string, secret: created.client_secret as string };
}

/** `https://auth-server/token?…` as written: a POST whose parameters are all in the URL (curl -X POST, no body). */
function postUrl(path: string, query: Record<string, string>, form = true): Promise<Response> {
  return call(`${path}?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers: form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {},
  });
}

/** The same parameters where RFC 6749 §3.2 puts them: the urlencoded body. */
function postBody(path: string, params: Record<string, string>): Promise<Response> {
  return call(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

async function expectBodyRefusal(res: Response, param: string): Promise<void> {
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  expect(res.headers.get('Content-Type')).toContain('application/json');
  expect(await errorOf(res)).toEqual({
    status: 400,
    error: 'invalid_request',
    description: `Do not put "${param}" in the URL; send it in the application/x-www-form-urlencoded request body.`,
  });
}

/** `{"access_token":"TOKEN", "expires_in":3600}`, then `GET https://api/…` with `Authorization: Bearer TOKEN`. */
async function expectDocumentTokens(res: Response, sub: string): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string };
  expect(body).toMatchObject({ access_token: expect.any(String), expires_in: 3600, token_type: 'Bearer' });
  const api = await me(body.access_token);
  expect(api.status).toBe(200);
  expect(await api.json()).toMatchObject({ sub });
}

describe('seed 003: authorization code, without PKCE, for a confidential client with require_pkce false', () => {
  it('auth?response_type=code&client_id&scope&state&redirect_uri → approval → app/cb?code&state → token → API', async () => {
    const { auth, token } = await endpoints();
    const app = await registerApp();
    const user = await seedUser();
    // The document's link, signed out: the sign-in page first, which continues at the published endpoint.
    const link = `${auth}?${new URLSearchParams({ response_type: 'code', client_id: app.id, scope: 'base', state: 'xyz', redirect_uri: SUCCESS })}`;
    const signedOut = await call(link, { redirect: 'manual' });
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.get('Location')).toBe(
      `/login?next=${encodeURIComponent(`/oauth2/authorize?${link.split('?')[1]}`)}`,
    );
    // authorizeFlow sends response_type, client_id, redirect_uri, scope, state and nothing else (pkce: false).
    const back = await authorizeFlow({ id: app.id }, user, {
      pkce: false,
      redirectUri: SUCCESS,
      scope: 'base',
      state: 'xyz',
    });
    expect(back.location.startsWith(`${SUCCESS}?`)).toBe(true);
    expect(back.state).toBe('xyz');
    expect(back.iss).toBe('http://localhost:8787'); // RFC 9207, extra to the document

    // "3 query params: client_id, client_secret, code" (and grant_type, redirect_uri), as written: refused, told where.
    const written = {
      grant_type: 'authorization_code',
      client_id: app.id,
      client_secret: app.secret,
      code: back.code,
      redirect_uri: SUCCESS,
    };
    await expectBodyRefusal(await postUrl(token, written), 'client_id');
    const noBody = await postUrl(token, written, false); // curl -X POST sends no Content-Type
    expect(await errorOf(noBody)).toEqual({
      status: 400,
      error: 'invalid_request',
      description: 'Send the parameters as application/x-www-form-urlencoded in the request body.',
    });
    const get = await call(`${token}?${new URLSearchParams(written)}`); // or typed into a browser
    expect(get.headers.get('Allow')).toBe('POST');
    expect(await errorOf(get)).toEqual({
      status: 405,
      error: 'invalid_request',
      description: 'The token endpoint accepts POST only.',
    });

    // The refused requests consumed nothing: the same parameters in the body get the document's answer.
    await expectDocumentTokens(await postBody(token, written), user.id);
  });

  it('the failure redirect URL is registered too: a denial goes back there with error=access_denied', async () => {
    const { auth } = await endpoints();
    const app = await registerApp();
    const user = await seedUser();
    const b = new Browser();
    const path = `${auth}?${new URLSearchParams({ response_type: 'code', client_id: app.id, scope: 'base', state: 'st', redirect_uri: FAILURE })}`;
    await signIn(b, user.email, user.password, path);
    const consent = await b.get(path);
    expect(consent.status).toBe(200);
    const fields = Object.fromEntries(
      [...(await consent.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
        m[1],
        m[2].replace(/&amp;/g, '&'),
      ]),
    );
    const denied = await b.post(auth, { ...fields, decision: 'deny' });
    expect(denied.status).toBe(303);
    const q = new URL(denied.headers.get('Location')!).searchParams;
    expect(denied.headers.get('Location')!.startsWith(`${FAILURE}?`)).toBe(true);
    expect(q.get('error')).toBe('access_denied');
    expect(q.get('state')).toBe('st');
  });
});

describe('seed 003: password and client credentials', () => {
  it('token?grant_type=password&client_id&username&password: refused in the URL, works in the body', async () => {
    const { token } = await endpoints();
    const app = await registerApp();
    const user = await seedUser();
    await expectBodyRefusal(
      await postUrl(token, {
        grant_type: 'password',
        client_id: app.id,
        username: user.email,
        password: user.password,
      }),
      'client_id',
    );
    // The document names client_id only; a confidential client also proves itself with its secret (RFC 6749 §4.3.2).
    const noSecret = await postBody(token, {
      grant_type: 'password',
      client_id: app.id,
      username: user.email,
      password: user.password,
    });
    expect(noSecret.status).toBe(401);
    expect((await errorOf(noSecret)).error).toBe('invalid_client');
    await expectDocumentTokens(
      await postBody(token, {
        grant_type: 'password',
        client_id: app.id,
        client_secret: app.secret,
        username: user.email,
        password: user.password,
      }),
      user.id,
    );
  });

  it('token?grant_type=client_credentials&client_id&client_secret: refused in the URL, works in the body', async () => {
    const { token } = await endpoints();
    const app = await registerApp();
    await expectBodyRefusal(
      await postUrl(token, { grant_type: 'client_credentials', client_id: app.id, client_secret: app.secret }),
      'client_id',
    );
    await expectDocumentTokens(
      await postBody(token, { grant_type: 'client_credentials', client_id: app.id, client_secret: app.secret }),
      app.id,
    );
  });
});

describe('seed 003: the implicit flow ("Abandonné")', () => {
  it('response_type=token gets unsupported_response_type at the redirect URL, once the user is signed in', async () => {
    const { auth } = await endpoints();
    const app = await registerApp();
    const user = await seedUser();
    const b = new Browser();
    const path = `${auth}?${new URLSearchParams({ response_type: 'token', client_id: app.id, scope: 'base', state: 'st', redirect_uri: SUCCESS })}`;
    await signIn(b, user.email, user.password, path);
    const res = await b.get(path);
    expect(res.status).toBe(302);
    const location = res.headers.get('Location')!;
    expect(location.startsWith(`${SUCCESS}?`)).toBe(true);
    expect(location).not.toContain('#'); // nothing in a fragment: no token is ever issued this way
    const q = new URL(location).searchParams;
    expect(q.get('error')).toBe('unsupported_response_type');
    expect(q.get('error_description')).toBe('Only response_type=code is supported (the implicit flow is not offered).');
    expect(q.get('state')).toBe('st');
  });
});
