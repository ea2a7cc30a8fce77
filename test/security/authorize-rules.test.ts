/**
 * Security review, issue 10 items 1 and 2: when /oauth2/authorize may redirect to a client, when a remembered
 * consent may be used, and the redirect-URI rules behind both (loopback ports, URIs that parse differently,
 * `state` too long to echo, one-sentence error descriptions). Black box, over HTTP, real bindings.
 */
import { env } from 'cloudflare:workers';
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
import { call, errorOf, ORIGIN, seedClient, seedUser } from '../helpers';
import { admin, json } from '../ops-helpers';

const CB = 'https://partner.example/cb';

async function initialAccessToken(): Promise<string> {
  const res = await admin('POST', '/initial-access-tokens', {});
  return (await json<{ initial_access_token: string }>(res, 201)).initial_access_token;
}

function register(body: unknown, token: string): Promise<Response> {
  return call('/oauth2/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

/** A client registered by anyone holding an initial access token (RFC 7591), as in the issue. */
async function dynamicClient(extra: Record<string, unknown> = {}): Promise<string> {
  const body = { client_name: 'Registered by anyone', redirect_uris: [CB], scope: 'base files', ...extra };
  return (await json<{ client_id: string }>(await register(body, await initialAccessToken()), 201)).client_id;
}

async function request(clientId: string, overrides: Record<string, string | undefined> = {}): Promise<string> {
  const { challenge } = await pkcePair();
  return authorizePath({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CB,
    state: 'st-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  });
}

/** An HTML error page with no redirect at all. */
async function expectErrorPage(res: Response, text: RegExp) {
  expect(res.status).toBe(400);
  expect(res.headers.get('Location')).toBeNull();
  expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(await res.text()).toMatch(text);
}

const codesOf = async (clientId: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM authorization_codes WHERE client_id = ?1')
    .bind(clientId)
    .first<{ n: number }>())!.n;

/** Every error the endpoint answers at the redirect URI (RFC 6749 §4.1.2.1), as request overrides. */
const REDIRECTED_ERRORS: [string, Record<string, string | undefined>, string][] = [
  ['response_type=token (the issue)', { response_type: 'token' }, 'unsupported_response_type'],
  ['an unknown scope (the issue)', { scope: 'base admin' }, 'invalid_scope'],
  ['code_challenge_method=plain (the issue)', { code_challenge_method: 'plain' }, 'invalid_request'],
  ['a scope the client may not ask for', { scope: 'upload_files' }, 'invalid_scope'],
  ['no response_type', { response_type: undefined }, 'invalid_request'],
  ['a challenge without a method', { code_challenge_method: undefined }, 'invalid_request'],
  ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
  ['a method without a challenge', { code_challenge: undefined }, 'invalid_request'],
  ['no PKCE at all', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
];

describe('item 1: no redirect to the client before someone signs in (RFC 9700 §4.11.2)', () => {
  it.each(REDIRECTED_ERRORS)('GET with %s: sign-in first, then the error goes back', async (_w, o, error) => {
    const clientId = await dynamicClient();
    const path = await request(clientId, o);
    const res = await call(path, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const loc = res.headers.get('Location')!;
    expect(loc.startsWith('/login?next=')).toBe(true); // on our own site, never the client's
    expect(new URLSearchParams(loc.slice(loc.indexOf('?'))).get('next')).toBe(path);

    const user = await seedUser();
    const b = new Browser();
    const login = await b.get(loc);
    expect(login.status).toBe(200);
    // The redirect after sign-in leads to the client: the login page's CSP lets that form navigation through.
    expect(login.headers.get('Content-Security-Policy')).toContain("form-action 'self' https://partner.example");
    expect(await login.text()).toContain('Registered by anyone');
    const signedIn = await signIn(b, user.email, user.password, path);
    expect(signedIn.headers.get('Location')).toBe(path);
    const answered = await b.get(path);
    expect(answered.status).toBe(302);
    expect(answered.headers.get('Location')!.startsWith(`${CB}?`)).toBe(true);
    expect(Object.fromEntries(locationParams(answered))).toMatchObject({ error, state: 'st-1', iss: ORIGIN });
  });

  it('GET with a repeated parameter: sign-in first, and the repetition is still refused afterwards', async () => {
    const clientId = await dynamicClient();
    const path = `${await request(clientId)}&scope=base&scope=files`;
    const res = await call(path, { redirect: 'manual' });
    expect(res.headers.get('Location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password, path);
    const answered = Object.fromEntries(locationParams(await b.get(path)));
    expect(answered).toMatchObject({ error: 'invalid_request', iss: ORIGIN });
  });

  it('a client without the code grant, registered in the portal by any user: sign-in first', async () => {
    const dev = await seedUser();
    const client = await seedClient({ ownerUserId: dev.id, grantTypes: ['client_credentials'], redirectUris: [CB] });
    const res = await call(await request(client.id), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')!.startsWith('/login?next=')).toBe(true);
  });

  it('POST (a consent form coming back after the session ended, with an error in it): sign-in first', async () => {
    const clientId = await dynamicClient({ token_endpoint_auth_method: 'none' });
    const b = new Browser();
    await (await b.get('/login')).text(); // the CSRF cookie, as the consent page would have set it
    const { challenge } = await pkcePair();
    const fields = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CB,
      scope: 'admin',
      state: 'p',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const res = await b.post('/oauth2/authorize', { ...fields, csrf: b.csrf(), decision: 'allow' });
    expect(res.status).toBe(303);
    const loc = res.headers.get('Location')!;
    expect(loc.startsWith('/login?next=')).toBe(true);
    expect(new URLSearchParams(loc.slice(loc.indexOf('?'))).get('next')).toBe(authorizePath(fields));
    expect(await codesOf(clientId)).toBe(0);
  });

  it('client and redirect-URI errors stay pages for everyone, signed in or not', async () => {
    const clientId = await dynamicClient();
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    for (const get of [(p: string) => call(p, { redirect: 'manual' }), (p: string) => b.get(p)]) {
      const evil = await request(clientId, { redirect_uri: 'https://evil.example/cb' });
      await expectErrorPage(await get(evil), /not registered/);
      await expectErrorPage(await get(await request('cl_nope', { response_type: 'token' })), /not registered/);
    }
  });
});

describe('item 2: a public client gets no code without the user confirming (RFC 6749 §10.2, RFC 8252 §8.6)', () => {
  it('after one Allow, another local process with its own port and PKCE gets the consent page', async () => {
    const client = await seedClient({ confidential: false, redirectUris: ['http://127.0.0.1/callback'] });
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { redirectUri: 'http://127.0.0.1:50001/callback', scope: 'files' });
    expect(first.location.startsWith('http://127.0.0.1:50001/callback?code=')).toBe(true);
    expect(await codesOf(client.id)).toBe(1);

    // The impersonator: same browser session, its own port and its own challenge, a subset of the scopes.
    const b = first.browser;
    const other = 'http://127.0.0.1:50002/callback';
    const path = await request(client.id, { redirect_uri: other, scope: 'files', state: 'evil' });
    const res = await b.get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('You allowed this before');
    expect(html).toContain('http://127.0.0.1:50002/callback');
    expect(await codesOf(client.id)).toBe(1);

    // One click, by the user, is enough.
    const ok = await b.post('/oauth2/authorize', { ...hiddenFields(html), decision: 'allow' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('Location')!.startsWith('http://127.0.0.1:50002/callback?code=')).toBe(true);
  });

  it('a private-use scheme client is asked again too', async () => {
    const client = await seedClient({ confidential: false, redirectUris: ['com.example.app:/cb'] });
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { redirectUri: 'com.example.app:/cb' });
    const again = await first.browser.get(await request(client.id, { redirect_uri: 'com.example.app:/cb' }));
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('You allowed this before');
  });

  it('a confidential client still uses its remembered consent (its code is useless without the secret)', async () => {
    const client = await seedClient({ redirectUris: [CB] });
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { redirectUri: CB });
    const again = await first.browser.get(await request(client.id));
    expect(again.status).toBe(302);
    expect(locationParams(again).get('code')).toBeTruthy();
  });
});

describe('loopback redirect ports must be real TCP ports', () => {
  it.each([
    ['0', 'http://127.0.0.1:0/callback'],
    ['65536', 'http://127.0.0.1:65536/callback'],
    ['99999', 'http://127.0.0.1:99999/callback'],
    ['a leading zero', 'http://127.0.0.1:08080/callback'],
    ['an empty port', 'http://127.0.0.1:/callback'],
    ['0 on IPv6', 'http://[::1]:0/callback'],
  ])('port %s is refused with the error page', async (_w, uri) => {
    const registered = uri.startsWith('http://[') ? 'http://[::1]/callback' : 'http://127.0.0.1/callback';
    const client = await seedClient({ confidential: false, redirectUris: [registered] });
    const res = await call(await request(client.id, { redirect_uri: uri }), { redirect: 'manual' });
    await expectErrorPage(res, /not registered/);
  });

  it('ports 1 and 65535 are accepted', async () => {
    const client = await seedClient({ confidential: false, redirectUris: ['http://127.0.0.1/callback'] });
    for (const uri of ['http://127.0.0.1:1/callback', 'http://127.0.0.1:65535/callback']) {
      const res = await call(await request(client.id, { redirect_uri: uri }), { redirect: 'manual' });
      expect(res.headers.get('Location')!.startsWith('/login?'), uri).toBe(true);
    }
  });

  it('registration refuses port 0 (dynamic registration and admin API), accepts 65535', async () => {
    const bad = { client_name: 'Native', redirect_uris: ['http://127.0.0.1:0/cb'], token_endpoint_auth_method: 'none' };
    expect(await errorOf(await register(bad, await initialAccessToken()))).toMatchObject({
      status: 400,
      error: 'invalid_redirect_uri',
      description: expect.stringMatching(/from 1 to 65535/),
    });
    expect((await admin('POST', '/clients', bad)).status).toBe(400);
    const good = { ...bad, redirect_uris: ['http://127.0.0.1:65535/cb'] };
    expect((await register(good, await initialAccessToken())).status).toBe(201);
  });
});

describe('a state too long to echo is refused with a page (RFC 6749 §4.1.2.1)', () => {
  it('signed out and signed in, on a valid request and on one with another error', async () => {
    const clientId = await dynamicClient();
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    const long = 'x'.repeat(1025);
    for (const get of [(p: string) => call(p, { redirect: 'manual' }), (p: string) => b.get(p)]) {
      await expectErrorPage(await get(await request(clientId, { state: long })), /longer than 1024/);
      const withError = await request(clientId, { state: long, response_type: 'token' });
      await expectErrorPage(await get(withError), /longer than 1024/);
    }
    // 1024 characters are echoed.
    const max = 'y'.repeat(1024);
    const res = await b.get(await request(clientId, { state: max, response_type: 'token' }));
    expect(locationParams(res).get('state')).toBe(max);
  });
});

describe('redirect URIs that read differently under RFC 3986 and WHATWG parsing are refused', () => {
  const DIFFERENT = [
    'https:evil.example/cb',
    'https://app.example\\@evil.example/cb',
    'HTTPS://app.example/cb',
    'https://APP.example/cb',
    'https://app.example',
    'https://app.example:443/cb',
    'https://app.example/x/../cb',
    'http://127.0.0.1:80/cb',
    'com.Example.app:/cb',
  ];

  it.each(DIFFERENT)('%s: by dynamic registration, the admin API and the portal', async (uri) => {
    const body = { client_name: 'App', redirect_uris: [uri], grant_types: ['authorization_code'] };
    const reg = await errorOf(await register(body, await initialAccessToken()));
    expect(reg).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });
    expect(reg.description).toMatch(/reads differently once parsed/);
    const adm = await errorOf(await admin('POST', '/clients', body));
    expect(adm).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });

    const dev = await seedUser();
    const b = new Browser();
    await signIn(b, dev.email, dev.password);
    const form = { csrf: b.csrf(), name: 'App', redirect_uris: uri, scope_base: '1', client_type: 'public' };
    const res = await b.post('/apps', form);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/reads differently once parsed/);
  });

  it('by an RFC 7592 update and an admin PATCH too', async () => {
    const reg = await json<Record<string, string>>(
      await register({ client_name: 'App', redirect_uris: [CB] }, await initialAccessToken()),
      201,
    );
    const put = await call(`/oauth2/register/${reg.client_id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${reg.registration_access_token}` },
      body: JSON.stringify({ client_id: reg.client_id, client_name: 'App', redirect_uris: ['https:evil.example/cb'] }),
    });
    expect(await errorOf(put)).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });
    const backslash = { redirect_uris: ['https://app.example\\@evil.example/cb'] };
    const patch = await admin('PATCH', `/clients/${reg.client_id}`, backslash);
    expect(await errorOf(patch)).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });
    const stored = await env.DB.prepare('SELECT redirect_uris FROM clients WHERE id = ?1').bind(reg.client_id).first();
    expect(stored).toEqual({ redirect_uris: JSON.stringify([CB]) });
  });

  it('the serialized form itself is accepted', async () => {
    const uris = ['https://app.example/@evil.example/cb', 'https://app.example/'];
    const body = { client_name: 'App', redirect_uris: uris };
    expect((await register(body, await initialAccessToken())).status).toBe(201);
  });
});

describe('redirect-URI error descriptions are one readable sentence', () => {
  it.each([
    [
      'http://localhost.example/oauth/callback',
      'The redirect URI "http://localhost.example/oauth/callback" is refused: plain http is only allowed for loopback ' +
        'addresses (http://127.0.0.1, http://[::1] or http://localhost); use https.',
    ],
    [
      'https:evil.example/cb',
      'The redirect URI "https:evil.example/cb" is refused: the redirect URL reads differently once parsed, ' +
        'so register it exactly as "https://evil.example/cb".',
    ],
  ])('%s', async (uri, sentence) => {
    const body = { client_name: 'App', redirect_uris: [uri] };
    expect((await errorOf(await register(body, await initialAccessToken()))).description).toBe(sentence);
  });

  it.each(['myapp:/cb', 'http://app.example/cb', 'https://app.example/cb#x', 'https://*.example/cb', 'javascript:x'])(
    '%s',
    async (uri) => {
      const res = await register({ client_name: 'App', redirect_uris: [uri] }, await initialAccessToken());
      const { description } = await errorOf(res);
      expect(description).toMatch(/^The redirect URI ".*" is refused: [a-z]/);
      expect(description).toMatch(/[^.]\.$/); // ends with one full stop
      expect(description).not.toMatch(/[.!?] [A-Z]/); // and starts no second sentence
    },
  );
});
