/**
 * The OpenID Foundation's Basic OP test plan (oidcc-basic-certification-test-plan), one test per module, named after
 * it, checking what the module checks (docs/openid-connect.md lists them with their result). The conformance suite
 * itself needs its own server and the internet; these drive the Worker over HTTP as its RP would.
 */
import { env } from 'cloudflare:workers';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { updateUserProfileStatement } from '../../src/storage/users';
import { tokenHash } from '../../src/tokens/id-token';
import { authorizePath, Browser } from '../authz-helpers';
import { call, errorOf, ORIGIN, seedUser, tokenRequest } from '../helpers';
import { freezeClock } from '../ops-helpers';
import { CB, exchange, idClaims, oidcAuthorize, setup } from './oidc-helpers';

async function jwks() {
  return createLocalJWKSet((await (await call('/.well-known/jwks.json')).json()) as never);
}

function userinfo(token: string, how: 'get' | 'post-header' | 'post-body' = 'get') {
  if (how === 'get') return call('/oauth2/userinfo', { headers: { Authorization: `Bearer ${token}` } });
  if (how === 'post-header')
    return call('/oauth2/userinfo', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  return call('/oauth2/userinfo', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ access_token: token }).toString(),
  });
}

/** A signed-in browser whose user approved the client once (scope openid). */
async function signedIn(overrides = {}) {
  const s = await setup(overrides);
  const flow = await oidcAuthorize(s.client, s.user, { nonce: 'n-0' });
  const tokens = await exchange(s.client, flow);
  return { ...s, browser: flow.browser, first: tokens };
}

describe('Basic OP test plan', () => {
  it('oidcc-server', async () => {
    const meta = (await (await call('/.well-known/openid-configuration')).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/oauth2/authorize`,
      token_endpoint: `${ORIGIN}/oauth2/token`,
      userinfo_endpoint: `${ORIGIN}/oauth2/userinfo`,
      end_session_endpoint: `${ORIGIN}/oauth2/logout`,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      subject_types_supported: ['public', 'pairwise'],
      claims_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    });
    expect(meta.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'name', 'auth_time']));
    // One source: the RFC 8414 document is the same object.
    expect(await (await call('/.well-known/oauth-authorization-server')).json()).toEqual(meta);

    const { client, user } = await setup();
    const flow = await oidcAuthorize(client, user, { nonce: 'n-123' });
    expect(flow.location.searchParams.get('state')).toBe('st-1');
    expect(flow.location.searchParams.get('iss')).toBe(ORIGIN);
    const tokens = await exchange(client, flow);
    expect(tokens.id_token).toBeTruthy();
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, await jwks(), {
      issuer: ORIGIN,
      audience: client.id,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'test-rs256-a' });
    expect(payload).toMatchObject({ sub: user.id, nonce: 'n-123', azp: client.id });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.auth_time).toBe('number');
    expect(typeof payload.sid).toBe('string');
    expect(payload.at_hash).toBe(await tokenHash(tokens.access_token, 'RS256'));
    // An ID token is never an access token (typ JWT, RS256): the API refuses it.
    const asBearer = await call('/v1/me', { headers: { Authorization: `Bearer ${tokens.id_token}` } });
    expect(asBearer.status).toBe(401);
  });

  it('oidcc-response-type-missing', async () => {
    const { client, browser } = await signedIn();
    const res = await browser.get(
      authorizePath({ client_id: client.id, redirect_uri: CB, scope: 'openid', state: 's' }),
    );
    expect(res.status).toBe(302);
    const q = new URL(res.headers.get('Location')!).searchParams;
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('state')).toBe('s');
  });

  for (const how of ['get', 'post-header', 'post-body'] as const) {
    it(`oidcc-userinfo-${how}`, async () => {
      const { first, user } = await signedIn();
      const res = await userinfo(first.access_token, how);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toContain('application/json');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.sub).toBe(idClaims(first.id_token!).claims.sub);
      expect(body.sub).toBe(user.id);
    });
  }

  it('oidcc-userinfo errors follow RFC 6750 (no token, bad token, no openid scope, both header and body)', async () => {
    const none = await call('/oauth2/userinfo');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="api", scope="openid"$/);
    const bad = await userinfo('not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    const { client } = await setup();
    const plain = await (await tokenRequest({ grant_type: 'client_credentials' }, { client })).json<{
      access_token: string;
    }>();
    const noScope = await userinfo(plain.access_token);
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope"');
    const { first } = await signedIn();
    const both = await call('/oauth2/userinfo', {
      method: 'POST',
      headers: { Authorization: `Bearer ${first.access_token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `access_token=${first.access_token}`,
    });
    expect(both.status).toBe(400);
    expect(both.headers.get('WWW-Authenticate')).toContain('error="invalid_request"');
    const put = await call('/oauth2/userinfo', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${first.access_token}` },
    });
    expect(put.status).toBe(400);
  });

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow', async () => {
    const { client, user } = await setup();
    const tokens = await exchange(client, await oidcAuthorize(client, user));
    expect(idClaims(tokens.id_token!).claims.nonce).toBeUndefined();
  });

  for (const [module, scope, expected, absent] of [
    [
      'oidcc-scope-profile',
      'openid profile',
      ['name', 'given_name', 'family_name', 'locale', 'picture', 'updated_at'],
      ['email'],
    ],
    ['oidcc-scope-email', 'openid email', ['email', 'email_verified'], ['name']],
    ['oidcc-scope-all', 'openid profile email offline_access', ['name', 'email', 'email_verified', 'updated_at'], []],
  ] as const) {
    it(module, async () => {
      const { client, user } = await setup();
      await updateUserProfileStatement(env.DB, user.id, {
        name: 'Ada Lovelace',
        given_name: 'Ada',
        family_name: 'Lovelace',
        locale: 'en-GB',
        picture: 'https://img.example/ada.png',
        email_verified: true,
      }).run();
      const tokens = await exchange(client, await oidcAuthorize(client, user, { scope, prompt: 'consent' }));
      expect(tokens.scope).toBe(scope);
      const info = (await (await userinfo(tokens.access_token)).json()) as Record<string, unknown>;
      for (const c of expected) expect(info[c], c).toBeDefined();
      for (const c of absent) expect(info[c], c).toBeUndefined();
      if (scope.includes('email')) expect(info).toMatchObject({ email: user.email, email_verified: true });
      if (scope.includes('profile')) expect(info).toMatchObject({ name: 'Ada Lovelace', locale: 'en-GB' });
    });
  }

  it('oidcc-ensure-other-scope-order-succeeds', async () => {
    const { client, user } = await setup();
    const tokens = await exchange(client, await oidcAuthorize(client, user, { scope: 'email openid' }));
    expect(tokens.id_token).toBeTruthy();
    expect(tokens.scope).toBe('openid email'); // canonical order
  });

  for (const display of ['page', 'popup']) {
    it(`oidcc-display-${display}`, async () => {
      const { client, user } = await setup();
      expect((await exchange(client, await oidcAuthorize(client, user, { display }))).id_token).toBeTruthy();
    });
  }

  it('oidcc-prompt-login', async () => {
    const advance = freezeClock();
    const { client, user, browser, first } = await signedIn();
    advance(5);
    const res = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        prompt: 'login',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    // A signed-in user is sent to sign in again (force=1 shows the form despite the session).
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toMatch(/^\/login\?next=.*&force=1$/);
    const again = await oidcAuthorize(client, user, { prompt: 'login' }, browser);
    const second = idClaims((await exchange(client, again)).id_token!).claims;
    expect(second.auth_time).toBeGreaterThan(idClaims(first.id_token!).claims.auth_time as number);
  });

  it('oidcc-prompt-none-not-logged-in', async () => {
    const { client } = await setup();
    const res = await new Browser().get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        state: 'z',
        prompt: 'none',
      }),
    );
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('Location')!);
    expect(loc.origin + loc.pathname).toBe(CB);
    expect(Object.fromEntries(loc.searchParams)).toMatchObject({ error: 'login_required', state: 'z', iss: ORIGIN });
    // Still no redirect for an unregistered redirect URI (RFC 9700 §4.11): an error page.
    const wrong = await new Browser().get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: 'https://evil.example/',
        prompt: 'none',
      }),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('Location')).toBeNull();
  });

  it('oidcc-prompt-none-logged-in', async () => {
    const { client, user, browser } = await signedIn();
    const flow = await oidcAuthorize(client, user, { prompt: 'none', nonce: 'n-2' }, browser);
    const tokens = await exchange(client, flow);
    expect(idClaims(tokens.id_token!).claims).toMatchObject({ sub: user.id, nonce: 'n-2' });
    // A user who never approved this client: consent_required, no page.
    const other = await setup();
    const b = new Browser();
    await oidcAuthorize(other.client, other.user, {}, b);
    const { client: fresh } = await setup();
    const res = await b.get(
      authorizePath({
        response_type: 'code',
        client_id: fresh.id,
        redirect_uri: CB,
        scope: 'openid',
        prompt: 'none',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('Location')!).searchParams.get('error')).toBe('consent_required');
    // prompt=none with another value is invalid_request (Core §3.1.2.1).
    const mixed = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        prompt: 'none login',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    expect(new URL(mixed.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('oidcc-max-age-1', async () => {
    const advance = freezeClock();
    const { client, user, browser, first } = await signedIn();
    advance(2);
    const silent = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        max_age: '1',
        prompt: 'none',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    expect(new URL(silent.headers.get('Location')!).searchParams.get('error')).toBe('login_required');
    const again = await oidcAuthorize(client, user, { max_age: '1' }, browser);
    const claims = idClaims((await exchange(client, again)).id_token!).claims;
    expect(claims.auth_time).toBeGreaterThan(idClaims(first.id_token!).claims.auth_time as number);
  });

  it('oidcc-max-age-10000', async () => {
    const { client, user, browser, first } = await signedIn();
    const again = await oidcAuthorize(client, user, { max_age: '10000', prompt: 'none' }, browser);
    const claims = idClaims((await exchange(client, again)).id_token!).claims;
    expect(claims.auth_time).toBe(idClaims(first.id_token!).claims.auth_time);
  });

  it('oidcc-id-token-hint', async () => {
    const { client, user, browser, first } = await signedIn();
    const again = await oidcAuthorize(client, user, { prompt: 'none', id_token_hint: first.id_token }, browser);
    expect(idClaims((await exchange(client, again)).id_token!).claims.sub).toBe(user.id);
    // A hint for another user than the signed-in one: login_required.
    const other = await signedIn({ redirectUris: [CB] });
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CB,
      scope: 'openid',
      prompt: 'none',
      id_token_hint: other.first.id_token,
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    const res = await browser.get(path);
    expect(new URL(res.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request'); // aud is the other client
    const otherUser = await seedUser();
    const b2 = new Browser();
    const f2 = await oidcAuthorize(client, otherUser, {}, b2);
    const hint2 = (await exchange(client, f2)).id_token!;
    const res2 = await browser.get(path.replace(encodeURIComponent(other.first.id_token!), encodeURIComponent(hint2)));
    expect(new URL(res2.headers.get('Location')!).searchParams.get('error')).toBe('login_required');
  });

  it('oidcc-login-hint', async () => {
    const { client } = await setup();
    const b = new Browser();
    const res = await b.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        login_hint: 'hint@example.com',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    const page = await b.get(res.headers.get('Location')!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('value="hint@example.com"');
  });

  for (const param of ['ui_locales', 'claims_locales']) {
    it(`oidcc-${param.replace('_', '-')}`, async () => {
      const { client, user } = await setup();
      expect((await exchange(client, await oidcAuthorize(client, user, { [param]: 'se' }))).id_token).toBeTruthy();
    });
  }

  it('oidcc-ensure-registered-redirect-uri', async () => {
    const { browser, client } = await signedIn();
    const res = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: 'https://attacker.example/cb',
        scope: 'openid',
      }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('Location')).toBeNull();
    expect(await res.text()).toContain('Wrong return address');
  });

  it('oidcc-ensure-post-request-succeeds', async () => {
    const { client, user, browser } = await signedIn();
    const res = await browser.request('/oauth2/authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site' },
      body: new URLSearchParams({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        state: 'p',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }).toString(),
    });
    expect(res.status).toBe(303);
    const follow = await browser.get(res.headers.get('Location')!);
    expect(follow.status).toBe(302); // remembered consent of a confidential client: straight back with a code
    expect(new URL(follow.headers.get('Location')!).searchParams.get('code')).toBeTruthy();
    void user;
  });

  it('oidcc-server-client-secret-post', async () => {
    const { client, user } = await setup({ authMethod: 'client_secret_post' });
    const flow = await oidcAuthorize(client, user);
    const res = await tokenRequest({
      grant_type: 'authorization_code',
      code: flow.location.searchParams.get('code')!,
      redirect_uri: CB,
      code_verifier: flow.verifier,
      client_id: client.id,
      client_secret: client.secret,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id_token?: string }).id_token).toBeTruthy();
  });

  for (const [module, param, error] of [
    ['oidcc-request-uri-unsigned', 'request_uri', 'request_uri_not_supported'],
    [
      'oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported',
      'request',
      'request_not_supported',
    ],
    ['oidcc-ensure-request-object-with-redirect-uri', 'request', 'request_not_supported'],
  ] as const) {
    it(module, async () => {
      const { client, browser } = await signedIn();
      const value =
        param === 'request'
          ? 'eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2FwcC5leGFtcGxlL2NiIn0.'
          : 'https://rp.example/req';
      const res = await browser.get(
        authorizePath({
          response_type: 'code',
          client_id: client.id,
          redirect_uri: CB,
          scope: 'openid',
          state: 'r',
          [param]: value,
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        }),
      );
      expect(res.status).toBe(302);
      expect(Object.fromEntries(new URL(res.headers.get('Location')!).searchParams)).toMatchObject({
        error,
        state: 'r',
      });
    });
  }

  it('oidcc-claims-essential', async () => {
    const { client, user } = await setup();
    await updateUserProfileStatement(env.DB, user.id, { name: 'Grace Hopper' }).run();
    const claims = JSON.stringify({
      userinfo: { name: { essential: true } },
      id_token: { email: { essential: true } },
    });
    const tokens = await exchange(client, await oidcAuthorize(client, user, { claims, prompt: 'consent' }));
    expect(tokens.scope).toBe('openid profile email'); // the claims request named them: the user approved them
    expect(((await (await userinfo(tokens.access_token)).json()) as { name: string }).name).toBe('Grace Hopper');
    expect(idClaims(tokens.id_token!).claims.email).toBe(user.email);
    // Invalid JSON: invalid_request.
    const { browser } = await signedIn();
    const res = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        scope: 'openid',
        claims: '{nope',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    expect(new URL(res.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('oidcc-refresh-token', async () => {
    const { client, user } = await setup();
    const tokens = await exchange(
      client,
      await oidcAuthorize(client, user, { scope: 'openid offline_access', prompt: 'consent' }),
    );
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { client },
    );
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('openid offline_access');
    expect((await userinfo(body.access_token)).status).toBe(200);
    // Core §11: with openid but without offline_access, no refresh token; plain OAuth codes still get one.
    const noOffline = await exchange(client, await oidcAuthorize(client, user));
    expect(noOffline.refresh_token).toBeUndefined();
    const plain = await exchange(client, await oidcAuthorize(client, user, { scope: 'base' }));
    expect(plain.refresh_token).toBeTruthy();
    expect(plain.id_token).toBeUndefined();
  });

  it('oidcc-codereuse', async () => {
    const { client, user } = await setup();
    const flow = await oidcAuthorize(client, user);
    const first = await exchange(client, flow);
    const code = flow.location.searchParams.get('code')!;
    const again = await tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: flow.verifier },
      { client },
    );
    expect(await errorOf(again)).toMatchObject({ status: 400, error: 'invalid_grant' });
    // The tokens of the first redemption are revoked (UserInfo reads the deny-list now).
    expect((await userinfo(first.access_token)).status).toBe(401);
  });

  it('oidcc-codereuse-30seconds', async () => {
    const advance = freezeClock();
    const { client, user } = await setup();
    const flow = await oidcAuthorize(client, user);
    await exchange(client, flow);
    advance(30);
    const again = await tokenRequest(
      {
        grant_type: 'authorization_code',
        code: flow.location.searchParams.get('code')!,
        redirect_uri: CB,
        code_verifier: flow.verifier,
      },
      { client },
    );
    expect(await errorOf(again)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});
