/** GET/POST /oauth2/authorize: request validation, redirect rules, login, consent, remembered consent. */
import { describe, expect, it } from 'vitest';
import {
  authorizeFlow,
  authorizePath,
  Browser,
  hiddenFields,
  locationParams,
  pkcePair,
  signIn,
} from '../authz-helpers';
import { call, ORIGIN, seedClient, seedUser } from '../helpers';

const CB = 'https://app.example/cb';

async function base(overrides: Record<string, string | undefined> = {}) {
  const client = await seedClient();
  const { challenge } = await pkcePair();
  return {
    client,
    path: authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...overrides,
    }),
  };
}

/** An error page: HTML, the given status, and no redirect. */
async function expectErrorPage(res: Response, status: number, text: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Location')).toBeNull();
  expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(await res.text()).toMatch(text);
}

describe('discovery metadata (RFC 8414)', () => {
  it('advertises the authorization endpoint, code, S256 and iss', async () => {
    const meta = (await (await call('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
    expect(meta.authorization_endpoint).toBe(`${ORIGIN}/oauth2/authorize`);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.grant_types_supported).toContain('authorization_code');
  });
});

describe('client and redirect URI: errors are shown, never redirected', () => {
  it('unknown client', async () => {
    const res = await call(authorizePath({ response_type: 'code', client_id: 'nope', redirect_uri: CB, state: 's' }), {
      redirect: 'manual',
    });
    await expectErrorPage(res, 400, /not registered/);
    expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
  });
  it('missing client_id', async () => {
    await expectErrorPage(
      await call(authorizePath({ response_type: 'code', redirect_uri: CB }), { redirect: 'manual' }),
      400,
      /client_id is missing/,
    );
  });
  it.each([
    ['trailing slash', `${CB}/`],
    ['case', 'https://APP.example/cb'],
    ['extra query', `${CB}?x=1`],
    ['other port on a non-loopback host', 'https://app.example:8443/cb'],
    ['another site', 'https://evil.example/cb'],
  ])('redirect URI differing by %s', async (_what, uri) => {
    const { path } = await base({ redirect_uri: uri });
    await expectErrorPage(await call(path, { redirect: 'manual' }), 400, /not registered/);
  });
  it("another client's redirect URI (bad client/redirect pair)", async () => {
    const other = await seedClient({ redirectUris: ['https://other.example/cb'] });
    const { path } = await base({ redirect_uri: 'https://other.example/cb' });
    await expectErrorPage(await call(path, { redirect: 'manual' }), 400, /not registered/);
    expect(other.id).toBeTruthy();
  });
  it('even other errors are not redirected when the redirect URI is bad', async () => {
    const { path } = await base({ redirect_uri: 'https://evil.example/cb', response_type: 'token' });
    await expectErrorPage(await call(path, { redirect: 'manual' }), 400, /not registered/);
  });
  it('missing redirect_uri with several registered', async () => {
    const client = await seedClient({ redirectUris: [CB, 'https://app.example/other'] });
    const { challenge } = await pkcePair();
    const res = await call(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    await expectErrorPage(res, 400, /redirect_uri is missing/);
  });
  it('a repeated client_id', async () => {
    const { path, client } = await base();
    await expectErrorPage(await call(`${path}&client_id=${client.id}`, { redirect: 'manual' }), 400, /twice/);
  });
  it('a disabled client', async () => {
    const { env } = await import('cloudflare:workers');
    const { updateClientAudited } = await import('../../src/services/update-client');
    const { client, path } = await base();
    await updateClientAudited(env, client.id, { status: 'disabled' }, { actor: 'test', detail: {} });
    await expectErrorPage(await call(path, { redirect: 'manual' }), 400, /disabled/);
  });
});

/** A browser with a signed-in user: errors are only redirected once someone is signed in (RFC 9700 §4.11.2). */
async function signedIn(): Promise<Browser> {
  const user = await seedUser();
  const b = new Browser();
  await signIn(b, user.email, user.password);
  return b;
}

// Signed out, these same requests go to the sign-in page first: test/security/authorize-rules.test.ts.
describe('other errors go back to the client with error, state and iss (RFC 9207)', () => {
  async function expectErrorRedirect(
    overrides: Record<string, string | undefined>,
    error: string,
    clientOverrides = {},
  ) {
    const client = await seedClient(clientOverrides);
    const { challenge } = await pkcePair();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      state: 'st/é&=?',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...overrides,
    });
    const res = await (await signedIn()).get(path);
    expect(res.status).toBe(302);
    const loc = res.headers.get('Location')!;
    expect(loc.startsWith(`${CB}?`)).toBe(true);
    const q = new URL(loc).searchParams;
    expect(q.get('error')).toBe(error);
    expect(q.get('error_description')).toBeTruthy();
    expect(q.get('state')).toBe('st/é&=?');
    expect(q.get('iss')).toBe(ORIGIN);
    return q;
  }
  it('implicit flow: response_type=token', () =>
    expectErrorRedirect({ response_type: 'token' }, 'unsupported_response_type'));
  it('missing response_type', () => expectErrorRedirect({ response_type: undefined }, 'invalid_request'));
  it('PKCE plain is refused', async () => {
    const q = await expectErrorRedirect({ code_challenge_method: 'plain' }, 'invalid_request');
    expect(q.get('error_description')).toMatch(/plain/);
  });
  it('a challenge without a method (would be plain)', () =>
    expectErrorRedirect({ code_challenge_method: undefined }, 'invalid_request'));
  it('a malformed challenge', () => expectErrorRedirect({ code_challenge: 'short' }, 'invalid_request'));
  it('PKCE is required for a public client', () =>
    expectErrorRedirect({ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', {
      confidential: false,
    }));
  it('PKCE is required for a confidential client registered with require_pkce', async () => {
    const q = await expectErrorRedirect(
      { code_challenge: undefined, code_challenge_method: undefined },
      'invalid_request',
    );
    expect(q.get('error_description')).toMatch(/PKCE is required/);
  });
  it('unknown scope', () => expectErrorRedirect({ scope: 'base admin' }, 'invalid_scope'));
  it('scope not allowed for the client', () =>
    expectErrorRedirect({ scope: 'upload_files' }, 'invalid_scope', { scopes: ['base'] }));
  it('client without the authorization_code grant', () =>
    expectErrorRedirect({}, 'unauthorized_client', { grantTypes: ['client_credentials'] }));
  it('a repeated parameter', async () => {
    const client = await seedClient();
    const path = authorizePath({ response_type: 'code', client_id: client.id, redirect_uri: CB, state: 'a' });
    const res = await (await signedIn()).get(`${path}&scope=base&scope=files`);
    expect(locationParams(res).get('error')).toBe('invalid_request');
  });
  it('keeps the query of a registered redirect URI', async () => {
    const client = await seedClient({ redirectUris: ['https://app.example/cb?tenant=7'] });
    const path = authorizePath({ response_type: 'token', client_id: client.id, state: 'z' });
    const res = await (await signedIn()).get(path);
    const loc = res.headers.get('Location')!;
    expect(loc.startsWith('https://app.example/cb?tenant=7&error=unsupported_response_type')).toBe(true);
  });
});

describe('sign-in, consent and the code', () => {
  it('round-trips state with the code, plus iss', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const state = 'a b+c/d?e=f&g#h';
    const r = await authorizeFlow(client, user, { state });
    expect(r.state).toBe(state);
    expect(r.iss).toBe(ORIGIN);
    expect(r.location.startsWith(`${CB}?code=`)).toBe(true);
    expect(r.code).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
  });

  it('stores only a hash of the code, bound to client, user, redirect URI, challenge and scope', async () => {
    const { env } = await import('cloudflare:workers');
    const { sha256 } = await import('../../src/lib/random');
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { scope: 'files base' });
    const row = await env.DB.prepare('SELECT * FROM authorization_codes WHERE hash = ?1')
      .bind(await sha256(r.code))
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({
      client_id: client.id,
      user_id: user.id,
      redirect_uri: CB,
      redirect_uri_sent: 1,
      scope: 'base files',
      used_at: null,
    });
    expect(row!.expires_at as number).toBe((row!.created_at as number) + 60);
    expect(typeof row!.code_challenge).toBe('string');
    const raw = await env.DB.prepare('SELECT COUNT(*) AS n FROM authorization_codes WHERE hash = ?1')
      .bind(r.code)
      .first<{ n: number }>();
    expect(raw!.n).toBe(0);
  });

  it('without redirect_uri and one registered URI, uses it', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { redirectUri: null });
    expect(r.location.startsWith(`${CB}?code=`)).toBe(true);
  });

  it('accepts another port on a registered loopback redirect URI and answers on that port', async () => {
    const client = await seedClient({ redirectUris: ['http://127.0.0.1/callback'] });
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { redirectUri: 'http://127.0.0.1:49152/callback' });
    expect(r.location.startsWith('http://127.0.0.1:49152/callback?code=')).toBe(true);
  });

  it('shows the consent page with the app and the scopes in plain words', async () => {
    const client = await seedClient({
      name: 'Movie <Fan>',
      description: 'Lists your films',
      siteUrl: 'https://movies.example',
      logoUrl: 'https://movies.example/logo.png',
    });
    const user = await seedUser();
    const b = new Browser();
    const { challenge } = await pkcePair();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      scope: 'files upload_files',
      state: 'q',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await signIn(b, user.email, user.password, path);
    const res = await b.get(path);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Movie &lt;Fan&gt;'); // escaped
    expect(html).toContain('Lists your films');
    expect(html).toContain('https://movies.example/logo.png');
    expect(html).toContain('Only view your images and files');
    expect(html).toContain('Only upload files for you');
    expect(html).not.toContain('Read and change your resources');
    expect(html).toMatch(/value="allow"/);
    expect(html).toMatch(/value="deny"/);
  });

  it('Deny sends access_denied with state and iss, with a 303', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const b = new Browser();
    const { challenge } = await pkcePair();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      state: 'deny-me',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await signIn(b, user.email, user.password, path);
    const fields = hiddenFields(await (await b.get(path)).text());
    const res = await b.post('/oauth2/authorize', { ...fields, decision: 'deny' });
    expect(res.status).toBe(303);
    const q = locationParams(res);
    expect(q.get('error')).toBe('access_denied');
    expect(q.get('state')).toBe('deny-me');
    expect(q.get('iss')).toBe(ORIGIN);
    expect(q.get('code')).toBeNull();
  });

  it('remembers consent for the same client and scopes, asks again for more', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { scope: 'base files' });
    const b = first.browser;
    const { challenge } = await pkcePair();
    const again = await b.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'files',
        state: 'r',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(again.status).toBe(302);
    expect(locationParams(again).get('code')).toBeTruthy();
    expect(locationParams(again).get('state')).toBe('r');
    const more = await b.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'upload_files',
        state: 'r',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(more.status).toBe(200);
    expect(await more.text()).toContain('Only upload files for you');
  });

  it('asks again when the form carries no decision', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const b = new Browser();
    const { challenge } = await pkcePair();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await signIn(b, user.email, user.password, path);
    const fields = hiddenFields(await (await b.get(path)).text());
    await expectErrorPage(await b.post('/oauth2/authorize', fields), 400, /choose Allow or Deny/);
  });

  it('refuses a form that is not urlencoded with a page', async () => {
    const res = await call('/oauth2/authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      redirect: 'manual',
    });
    await expectErrorPage(res, 415, /could not be read/);
  });

  it('sends a signed-out user to the login page, and back', async () => {
    const { path } = await base();
    const res = await call(path, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const loc = res.headers.get('Location')!;
    expect(loc).toBe(
      `/login?next=${encodeURIComponent(`${new URL(ORIGIN + path).pathname}?${new URLSearchParams(Object.fromEntries(new URL(ORIGIN + path).searchParams)).toString()}`)}`,
    );
  });
});
