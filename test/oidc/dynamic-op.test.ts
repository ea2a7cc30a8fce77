/**
 * Modules of the OpenID Foundation's Dynamic OP plan that apply here: key rotation and registration (RFC 7591 with
 * the OpenID Connect client metadata), pairwise subjects (Core §8.1), and RP-Initiated Logout 1.0.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { resetKeyRing } from '../../src/tokens/keyring';
import { Browser } from '../authz-helpers';
import { call, errorOf } from '../helpers';
import { admin, freezeClock, json } from '../ops-helpers';
import { CB, exchange, idClaims, oidcAuthorize, setup } from './oidc-helpers';

async function initialAccessToken(): Promise<string> {
  return (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', {}), 201))
    .initial_access_token;
}

async function register(body: Record<string, unknown>): Promise<Response> {
  return call('/oauth2/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await initialAccessToken()}` },
    body: JSON.stringify({ client_name: 'RP', redirect_uris: [CB], grant_types: ['authorization_code'], ...body }),
  });
}

describe('Dynamic OP test plan (registration and key rotation)', () => {
  it('oidcc-server-rotate-keys', async () => {
    const advance = freezeClock();
    resetKeyRing(env);
    const { client, user } = await setup();
    const before = idClaims((await exchange(client, await oidcAuthorize(client, user))).id_token!).header;
    expect(before.kid).toBe('test-rs256-a');
    await json(await admin('POST', '/keys/rotate'), 200);
    await json(await admin('POST', '/keys/rotate', { force: true }), 200);
    advance(1);
    const after = idClaims((await exchange(client, await oidcAuthorize(client, user))).id_token!).header;
    expect(after.alg).toBe('RS256');
    expect(after.kid).not.toBe('test-rs256-a');
    const kids = ((await (await call('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
    expect(kids).toContain(after.kid); // the RP finds the new key in the JWKS
    expect(kids).toContain('test-rs256-a'); // and the old one while its ID tokens may be alive
  });

  it('oidcc-registration (OpenID Connect client metadata accepted, echoed, used)', async () => {
    const res = await register({
      id_token_signed_response_alg: 'ES256',
      post_logout_redirect_uris: ['https://app.example/bye'],
      default_max_age: 3600,
      require_auth_time: true,
      application_type: 'web',
      subject_type: 'public',
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown> & { client_id: string; client_secret: string };
    expect(body).toMatchObject({
      id_token_signed_response_alg: 'ES256',
      post_logout_redirect_uris: ['https://app.example/bye'],
      default_max_age: 3600,
      require_auth_time: true,
      application_type: 'web',
      subject_type: 'public',
    });
    const client = { id: body.client_id, secret: body.client_secret };
    const { user } = await setup();
    const tokens = await exchange(client, await oidcAuthorize(client, user));
    expect(idClaims(tokens.id_token!).header.alg).toBe('ES256');
  });

  it('oidcc-registration refuses what it does not support, clearly', async () => {
    for (const [body, text] of [
      [{ id_token_signed_response_alg: 'none' }, 'id_token_signed_response_alg'],
      [{ id_token_signed_response_alg: 'PS256' }, 'id_token_signed_response_alg'],
      [{ subject_type: 'secret' }, 'subject_type'],
      [{ request_object_signing_alg: 'RS256' }, 'request_object_signing_alg'],
      [{ id_token_encrypted_response_alg: 'RSA-OAEP' }, 'not supported'],
      [{ default_max_age: -1 }, 'default_max_age'],
      [{ require_auth_time: 'yes' }, 'require_auth_time'],
      [{ application_type: 'desktop' }, 'application_type'],
    ] as const) {
      const err = await errorOf(await register(body));
      expect(err.status).toBe(400);
      expect(err.error).toBe('invalid_client_metadata');
      expect(err.description).toContain(text);
    }
    const badLogout = await errorOf(await register({ post_logout_redirect_uris: ['https://app.example/bye#x'] }));
    expect(badLogout).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });
  });

  it('oidcc-registration-sector-bad', async () => {
    for (const uri of ['http://rp.example/sector.json', 'https://127.0.0.1/sector.json']) {
      const err = await errorOf(await register({ subject_type: 'pairwise', sector_identifier_uri: uri }));
      expect(err).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
      expect(err.description).toContain('sector_identifier_uri');
    }
    // Core §8.1: pairwise redirect URIs on several hosts need a sector_identifier_uri.
    const hosts = await errorOf(
      await register({ subject_type: 'pairwise', redirect_uris: [CB, 'https://other.example/cb'] }),
    );
    expect(hosts).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });

  it('pairwise subject identifiers (Core §8.1): per sector, the same in the ID token and UserInfo', async () => {
    const { client, user } = await setup({ oidc: { subject_type: 'pairwise' } });
    const other = await setup({ oidc: { subject_type: 'pairwise' }, redirectUris: ['https://other.example/cb'] });
    const tokens = await exchange(client, await oidcAuthorize(client, user));
    const sub = idClaims(tokens.id_token!).claims.sub!;
    expect(sub).not.toBe(user.id);
    expect(sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const info = (await (
      await call('/oauth2/userinfo', { headers: { Authorization: `Bearer ${tokens.access_token}` } })
    ).json()) as { sub: string };
    expect(info.sub).toBe(sub);
    // Stable for the same sector, different for another.
    const again = await exchange(client, await oidcAuthorize(client, user));
    expect(idClaims(again.id_token!).claims.sub).toBe(sub);
    void other;
    // The access token keeps the real user id (it is for this server's API).
    expect(idClaims(tokens.access_token).claims.sub).toBe(user.id);
  });
});

describe('RP-Initiated Logout 1.0', () => {
  const logoutClient = { oidc: { post_logout_redirect_uris: ['https://app.example/bye'] } };

  it('a valid id_token_hint for the session ends it and returns to the registered URI with state', async () => {
    const { client, user } = await setup(logoutClient);
    const flow = await oidcAuthorize(client, user);
    const { id_token } = await exchange(client, flow);
    const q = new URLSearchParams({
      id_token_hint: id_token!,
      post_logout_redirect_uri: 'https://app.example/bye',
      state: 'bye-1',
    });
    const res = await flow.browser.get(`/oauth2/logout?${q}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe('https://app.example/bye?state=bye-1');
    // The server-side session is gone: the next authorization asks to sign in.
    const next = await flow.browser.get(
      `/oauth2/authorize?response_type=code&client_id=${client.id}&redirect_uri=${encodeURIComponent(CB)}&scope=openid&prompt=none`,
    );
    expect(new URL(next.headers.get('Location')!).searchParams.get('error')).toBe('login_required');
  });

  it('without a hint the user confirms on a CSRF-protected page; never an open redirect', async () => {
    const { client, user } = await setup(logoutClient);
    const flow = await oidcAuthorize(client, user);
    const b = flow.browser;
    const page = await b.get(`/oauth2/logout?client_id=${client.id}&post_logout_redirect_uri=https://app.example/bye`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Sign out?');
    // A cross-site POST without the token is refused.
    const forged = await b.post('/oauth2/logout', { decision: 'logout' }, { 'Sec-Fetch-Site': 'cross-site' });
    expect(forged.status).toBe(403);
    const ok = await b.post('/oauth2/logout', {
      csrf: b.csrf(),
      decision: 'logout',
      client_id: client.id,
      post_logout_redirect_uri: 'https://app.example/bye',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('Location')).toBe('https://app.example/bye');
    // Unregistered post_logout_redirect_uri: an error page, no redirect.
    for (const uri of ['https://evil.example/', 'https://app.example/bye/', CB]) {
      const res = await new Browser().get(
        `/oauth2/logout?client_id=${client.id}&post_logout_redirect_uri=${encodeURIComponent(uri)}`,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('Location')).toBeNull();
    }
    // A redirect without a client to check it against: refused too.
    const anon = await new Browser().get('/oauth2/logout?post_logout_redirect_uri=https://app.example/bye');
    expect(anon.status).toBe(400);
    // A forged hint: an error page.
    const forgedHint = await new Browser().get('/oauth2/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30.');
    expect(forgedHint.status).toBe(400);
  });
});
