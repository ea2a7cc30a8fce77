import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, errorOf, expectTokens, tokenRequest } from '../helpers';
import { admin, freezeClock, json } from '../ops-helpers';

async function initialAccessToken(body: Record<string, unknown> = {}): Promise<string> {
  return (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', body), 201))
    .initial_access_token;
}

function register(body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return call('/oauth2/register', { method: 'POST', headers, body: JSON.stringify(body) });
}

const APP = {
  client_name: 'Partner app',
  redirect_uris: ['https://partner.example/cb'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'files',
};

describe('dynamic client registration (RFC 7591) and management (RFC 7592)', () => {
  it('registers with an initial access token, then reads, updates and deletes with the registration access token', async () => {
    const iat = await initialAccessToken();
    const res = await register({ ...APP, token_endpoint_auth_method: 'client_secret_basic' }, iat);
    const reg = await json<Record<string, string | number | string[]>>(res, 201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(reg).toMatchObject({
      client_name: 'Partner app',
      redirect_uris: ['https://partner.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'files',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_expires_at: 0,
    });
    const id = reg.client_id as string;
    expect(reg.registration_client_uri).toBe(`http://localhost:8787/oauth2/register/${id}`);
    const rat = reg.registration_access_token as string;
    const auth = { Authorization: `Bearer ${rat}` };

    const read = await json<Record<string, unknown>>(await call(`/oauth2/register/${id}`, { headers: auth }), 200);
    expect(read).toMatchObject({ client_id: id, client_name: 'Partner app' });
    expect(read.client_secret).toBeUndefined();

    const put = await call(`/oauth2/register/${id}`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_id: id,
        ...APP,
        client_name: 'Renamed',
        redirect_uris: ['https://partner.example/cb2'],
      }),
    });
    expect(await json(put, 200)).toMatchObject({
      client_name: 'Renamed',
      redirect_uris: ['https://partner.example/cb2'],
    });

    // Wrong token, or another client's id: the same 401.
    expect((await call(`/oauth2/register/${id}`, { headers: { Authorization: 'Bearer rat_wrong' } })).status).toBe(401);
    expect((await call('/oauth2/register/cl_other', { headers: auth })).status).toBe(401);
    expect((await call(`/oauth2/register/${id}`)).status).toBe(401);

    expect((await call(`/oauth2/register/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await call(`/oauth2/register/${id}`, { headers: auth })).status).toBe(401);
    expect((await admin('GET', `/clients/${id}`)).status).toBe(404);
  });

  it('registers a client_credentials client whose secret works at the token endpoint', async () => {
    const reg = await json<{ client_id: string; client_secret: string }>(
      await register({ client_name: 'M2M', grant_types: ['client_credentials'] }, await initialAccessToken()),
      201,
    );
    await expectTokens(
      await tokenRequest(
        { grant_type: 'client_credentials' },
        { client: { id: reg.client_id, secret: reg.client_secret } },
      ),
    );
  });

  it('registers a public native client with a private-use scheme and no secret', async () => {
    const reg = await json<Record<string, unknown>>(
      await register(
        {
          client_name: 'Phone',
          redirect_uris: ['com.example.app:/oauth/cb', 'http://127.0.0.1:4000/cb'],
          token_endpoint_auth_method: 'none',
        },
        await initialAccessToken(),
      ),
      201,
    );
    expect(reg.client_secret).toBeUndefined();
    expect(reg.token_endpoint_auth_method).toBe('none');
  });

  it('refuses without, or with a bad, expired or spent initial access token', async () => {
    const advance = freezeClock();
    const none = await register(APP);
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe('Bearer realm="register"');
    expect((await register(APP, 'iat_bogus')).status).toBe(401);
    const once = await initialAccessToken({ max_uses: 1 });
    await json(await register(APP, once), 201);
    expect((await register(APP, once)).status).toBe(401);
    const short = await initialAccessToken({ expires_in: 60 });
    advance(61);
    const expired = await register(APP, short);
    expect(expired.status).toBe(401);
    expect((await errorOf(expired)).error).toBe('invalid_token');
  });

  it('validates metadata: redirect URIs, grants, auth method, scopes', async () => {
    const iat = await initialAccessToken();
    const BAD = { ...APP, client_name: 'Never registered' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...BAD, redirect_uris: ['http://partner.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: ['https://partner.example/cb#frag'] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: ['https://*.partner.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: ['/relative'] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: [] }, 'invalid_redirect_uri'],
      [{ ...BAD, redirect_uris: 'https://partner.example/cb' }, 'invalid_client_metadata'],
      [{ ...BAD, grant_types: ['password'] }, 'invalid_client_metadata'],
      [{ ...BAD, grant_types: ['implicit'] }, 'invalid_client_metadata'],
      [{ ...BAD, response_types: ['token'] }, 'invalid_client_metadata'],
      [{ ...BAD, grant_types: ['client_credentials'], response_types: ['code'] }, 'invalid_client_metadata'],
      [{ ...BAD, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
      [{ ...BAD, token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
      [{ ...BAD, scope: 'admin' }, 'invalid_client_metadata'],
      [{ ...BAD, client_uri: 'ftp://x' }, 'invalid_client_metadata'],
      [{ ...BAD, client_name: '' }, 'invalid_client_metadata'],
    ];
    for (const [body, error] of cases) {
      const res = await register(body, iat);
      expect({ body, ...(await errorOf(res)) }).toMatchObject({ status: 400, error });
    }
    const notJson = await call('/oauth2/register', {
      method: 'POST',
      headers: { Authorization: `Bearer ${iat}`, 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(await errorOf(notJson)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM clients WHERE name = 'Never registered'").first<{
      n: number;
    }>())!;
    expect(n).toBe(0);
  });
});
