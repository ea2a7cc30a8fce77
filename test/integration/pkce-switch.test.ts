/**
 * Issue 11 item 3: `require_pkce: false` (docs/authorization.md) set through the admin API really lets a confidential
 * client use the code flow without PKCE (seed 003); a public client is refused the switch with a clear error (RFC 7636
 * §1: without a secret, PKCE is what protects its codes); dynamic registration cannot turn PKCE off.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { authorizePath, Browser, signIn } from '../authz-helpers';
import { call, errorOf, expectTokens, seedUser, type TestClient, tokenRequest } from '../helpers';
import { admin, json } from '../ops-helpers';

const CB = 'https://partner.example/cb';
const WEB_APP = {
  client_name: 'Seed 003 web app',
  grant_types: ['authorization_code'],
  redirect_uris: [CB],
  scope: 'base',
};
const PUBLIC_APP = { ...WEB_APP, client_name: 'Seed 003 SPA', token_endpoint_auth_method: 'none' };

/** A signed-in browser sent to /authorize without code_challenge; returns the redirect back to the client. */
async function authorizeWithoutPkce(clientId: string): Promise<URLSearchParams> {
  const user = await seedUser();
  const b = new Browser();
  await signIn(b, user.email, user.password);
  const path = authorizePath({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CB,
    scope: 'base',
    state: 's1',
  });
  let res = await b.get(path);
  if (res.status === 200) res = await b.post('/oauth2/authorize', { ...hidden(await res.text()), decision: 'allow' });
  expect([302, 303]).toContain(res.status);
  return new URL(res.headers.get('Location')!).searchParams;
}

function hidden(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      m[1],
      m[2].replace(/&amp;/g, '&'),
    ]),
  );
}

describe('require_pkce false for a confidential client (admin API)', () => {
  it('is stored and shown, and the code flow then works without PKCE', async () => {
    const created = await json<{ client_id: string; client_secret: string; require_pkce: boolean }>(
      await admin('POST', '/clients', { ...WEB_APP, require_pkce: false }),
      201,
    );
    expect(created.require_pkce).toBe(false);
    expect(
      await env.DB.prepare('SELECT require_pkce FROM clients WHERE id = ?1')
        .bind(created.client_id)
        .first('require_pkce'),
    ).toBe(0);
    const back = await authorizeWithoutPkce(created.client_id);
    expect(back.get('error')).toBeNull();
    expect(back.get('state')).toBe('s1');
    const client: TestClient = { id: created.client_id, secret: created.client_secret };
    const tokens = await expectTokens(
      await tokenRequest({ grant_type: 'authorization_code', code: back.get('code')!, redirect_uri: CB }, { client }),
    );
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'base' });
  });

  it('is off by default, and PATCH switches it both ways', async () => {
    const created = await json<{ client_id: string; require_pkce: boolean }>(
      await admin('POST', '/clients', WEB_APP),
      201,
    );
    expect(created.require_pkce).toBe(true);
    const refused = await authorizeWithoutPkce(created.client_id);
    expect(refused.get('error')).toBe('invalid_request');
    expect(refused.get('error_description')).toBe(
      'PKCE is required: send code_challenge and code_challenge_method=S256 (RFC 7636).',
    );

    const off = await json<{ require_pkce: boolean }>(
      await admin('PATCH', `/clients/${created.client_id}`, { require_pkce: false }),
      200,
    );
    expect(off.require_pkce).toBe(false);
    expect((await authorizeWithoutPkce(created.client_id)).get('code')).toBeTruthy();
    const other = await json<{ require_pkce: boolean }>(
      await admin('PATCH', `/clients/${created.client_id}`, { client_name: 'Renamed' }),
      200,
    );
    expect(other.require_pkce).toBe(false); // a PATCH without the field keeps it
    const on = await json<{ require_pkce: boolean }>(
      await admin('PATCH', `/clients/${created.client_id}`, { require_pkce: true }),
      200,
    );
    expect(on.require_pkce).toBe(true);
    expect((await authorizeWithoutPkce(created.client_id)).get('error')).toBe('invalid_request');
  });

  it('refuses a value that is not a boolean', async () => {
    const res = await admin('POST', '/clients', { ...WEB_APP, require_pkce: 'false' });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(res)).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description: '"require_pkce" must be true or false.',
    });
  });
});

describe('require_pkce false is refused where it would be unsafe', () => {
  const PUBLIC_REFUSAL =
    'A public client cannot turn off PKCE: without a secret, PKCE is what protects its authorization codes (RFC 7636 §1).';

  it('for a public client: admin API 400 on create and on PATCH, nothing changed', async () => {
    expect(await errorOf(await admin('POST', '/clients', { ...PUBLIC_APP, require_pkce: false }))).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description: PUBLIC_REFUSAL,
    });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM clients WHERE name = 'Seed 003 SPA'").first('n')).toBe(0);
    const spa = await json<{ client_id: string }>(await admin('POST', '/clients', PUBLIC_APP), 201);
    expect(await errorOf(await admin('PATCH', `/clients/${spa.client_id}`, { require_pkce: false }))).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description: PUBLIC_REFUSAL,
    });
    expect(await json(await admin('GET', `/clients/${spa.client_id}`), 200)).toMatchObject({ require_pkce: true });
  });

  it('in dynamic registration (RFC 7591 POST and RFC 7592 PUT)', async () => {
    const iat = (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', {}), 201))
      .initial_access_token;
    const send = (method: string, path: string, token: string, body: unknown) =>
      call(path, {
        method,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const refusal = {
      status: 400,
      error: 'invalid_client_metadata',
      description: 'Dynamic registration cannot turn off PKCE ("require_pkce": false); ask the administrator.',
    };
    expect(await errorOf(await send('POST', '/oauth2/register', iat, { ...WEB_APP, require_pkce: false }))).toEqual(
      refusal,
    );
    const reg = await json<{ client_id: string; registration_access_token: string }>(
      await send('POST', '/oauth2/register', iat, WEB_APP),
      201,
    );
    const put = await send('PUT', `/oauth2/register/${reg.client_id}`, reg.registration_access_token, {
      ...WEB_APP,
      client_id: reg.client_id,
      require_pkce: false,
    });
    expect(await errorOf(put)).toEqual(refusal);
    expect(await json(await admin('GET', `/clients/${reg.client_id}`), 200)).toMatchObject({ require_pkce: true });
  });
});
