/**
 * Issue 13: REGISTRATION_POLICY (src/config.ts, src/oauth/registration-policy.ts, src/routes/register.ts) and the idle
 * expiry of openly registered clients (src/storage/open-clients.ts, src/jobs/cleanup.ts).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { runCleanup } from '../../src/jobs/cleanup';
import { touchOpenClientStatement } from '../../src/storage/open-clients';
import { authorizeFlow } from '../authz-helpers';
import { call, errorOf, expectTokens, ORIGIN, seedUser, tokenRequest } from '../helpers';
import { admin, freezeClock, json } from '../ops-helpers';

const CALLBACK = 'http://localhost:33418/oauth/callback';

/** The Worker with other vars, as an operator would set them in wrangler.toml. */
async function withVars(vars: Record<string, string>, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function register(policy: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return withVars({ REGISTRATION_POLICY: policy }, '/oauth2/register', {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
}

const MCP_CLIENT = {
  client_name: 'MCP Inspector',
  redirect_uris: [CALLBACK],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

async function initialAccessToken(): Promise<string> {
  return (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', {}), 201))
    .initial_access_token;
}

const row = (id: string) =>
  env.DB.prepare('SELECT registered_openly, last_used_at, created_at FROM clients WHERE id = ?1')
    .bind(id)
    .first<{ registered_openly: number; last_used_at: number | null; created_at: number }>();

describe('REGISTRATION_POLICY', () => {
  it('is validated: an unknown value is a 500 naming the setting, on every request', async () => {
    const res = await withVars({ REGISTRATION_POLICY: 'anyone' }, '/.well-known/oauth-authorization-server');
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({
      error: 'server_error',
      error_description: expect.stringContaining(
        'REGISTRATION_POLICY must be one of: initial-token, open-public, open',
      ),
    });
  });

  it('initial-token (the default) still answers 401 with a Bearer challenge without a token', async () => {
    for (const res of [
      await register('initial-token', MCP_CLIENT),
      await call('/oauth2/register', { method: 'POST' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="register"/);
      expect((await res.json()) as object).toMatchObject({ error: 'invalid_token' });
    }
  });

  it('open-public registers a public client without a token: method none by default, localhost any-port redirect', async () => {
    const res = await register('open-public', MCP_CLIENT);
    const reg = await json<Record<string, unknown>>(res, 201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(reg).toMatchObject({
      client_name: 'MCP Inspector',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      registration_access_token: expect.stringMatching(/^rat_/),
    });
    expect(reg.client_secret).toBeUndefined();
    expect(await row(reg.client_id as string)).toMatchObject({ registered_openly: 1 });
    const audit = await env.DB.prepare(
      "SELECT detail FROM audit_events WHERE event = 'client_created' AND subject = ?1",
    )
      .bind(reg.client_id)
      .first<{ detail: string }>();
    expect(JSON.parse(audit!.detail)).toMatchObject({ via: 'rfc7591-open' });
  });

  it.each([
    [
      'a confidential client',
      { ...MCP_CLIENT, token_endpoint_auth_method: 'client_secret_basic' },
      'Without an initial access token only public clients can register here: use token_endpoint_auth_method "none" with PKCE.',
    ],
    [
      'the client_credentials grant',
      { ...MCP_CLIENT, token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
      'A public client (token_endpoint_auth_method "none") cannot use the client_credentials or password grant.',
    ],
    [
      'PKCE off',
      { ...MCP_CLIENT, require_pkce: false },
      'Dynamic registration cannot turn off PKCE ("require_pkce": false); ask the administrator.',
    ],
  ])('open-public refuses %s with invalid_client_metadata, and creates nothing', async (_what, body, description) => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first<{ n: number }>();
    const res = await register('open-public', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(res)).toMatchObject({ error: 'invalid_client_metadata', description });
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first()).toEqual(before);
  });

  it('open-public with a wrong token is judged as a token: 401 invalid_token, never silently open', async () => {
    const res = await register('open-public', MCP_CLIENT, 'iat_not-a-real-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/error="invalid_token"/);
  });

  it('open registers a confidential code-flow client, never client_credentials without a token', async () => {
    const body = {
      ...MCP_CLIENT,
      redirect_uris: ['https://agent.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    };
    const reg = await json<Record<string, unknown>>(await register('open', body), 201);
    expect(reg).toMatchObject({ token_endpoint_auth_method: 'client_secret_post', client_secret: expect.any(String) });

    const cc = await register('open', { ...body, grant_types: ['authorization_code', 'client_credentials'] });
    expect(await errorOf(cc)).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description:
        'Without an initial access token a client can only use the authorization_code and refresh_token grants, not "client_credentials".',
    });
    // With an initial access token the administrator's rules apply, as before.
    const withToken = await register(
      'open',
      { ...body, grant_types: ['authorization_code', 'client_credentials'] },
      await initialAccessToken(),
    );
    expect(withToken.status).toBe(201);

    // RFC 7592: an openly registered client cannot add the grant later.
    const put = await withVars({ REGISTRATION_POLICY: 'open' }, `/oauth2/register/${reg.client_id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${reg.registration_access_token}` },
      body: JSON.stringify({
        ...body,
        client_id: reg.client_id,
        grant_types: ['authorization_code', 'client_credentials'],
      }),
    });
    expect(await errorOf(put)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });
});

describe('openly registered clients expire when unused (OPEN_CLIENT_IDLE_DAYS)', () => {
  it('a token request records the use (at most one write a day); the cleanup deletes the idle ones with their grants', async () => {
    const user = await seedUser();
    const used = await json<Record<string, string>>(await register('open-public', MCP_CLIENT), 201);
    const idle = await json<Record<string, string>>(await register('open-public', MCP_CLIENT), 201);
    const admins = await json<Record<string, string>>(
      await register('open-public', { ...MCP_CLIENT, token_endpoint_auth_method: 'none' }, await initialAccessToken()),
      201,
    );
    // Both open ones were last used 40 days ago, and the one registered with a token too (it never expires).
    const old = Math.floor(Date.now() / 1000) - 40 * 86_400;
    await env.DB.prepare('UPDATE clients SET last_used_at = ?1, created_at = ?1 WHERE id IN (?2, ?3, ?4)')
      .bind(old, used.client_id, idle.client_id, admins.client_id)
      .run();

    // A code exchange by `used` moves its clock (after the response: waitUntil).
    const flow = await authorizeFlow({ id: used.client_id }, user, {
      redirectUri: 'http://localhost:50123/oauth/callback',
    });
    const tokens = await expectTokens(
      await tokenRequest({
        grant_type: 'authorization_code',
        code: flow.code,
        redirect_uri: 'http://localhost:50123/oauth/callback',
        client_id: used.client_id,
        code_verifier: flow.verifier!,
      }),
    );
    for (let i = 0; i < 50 && (await row(used.client_id))!.last_used_at === old; i++)
      await new Promise((r) => setTimeout(r, 20));
    const touched = (await row(used.client_id))!.last_used_at!;
    expect(touched).toBeGreaterThan(old);

    // The UPDATE writes only once a day.
    const again = await touchOpenClientStatement(env.DB, used.client_id, touched + 3600).run();
    expect(again.meta.changes).toBe(0);
    const nextDay = await touchOpenClientStatement(env.DB, used.client_id, touched + 86_400).run();
    expect(nextDay.meta.changes).toBe(1);

    const report = await runCleanup({ ...env, OPEN_CLIENT_IDLE_DAYS: '30' });
    expect(report.idleClientsDeleted).toBeGreaterThanOrEqual(1);
    expect(await row(idle.client_id)).toBeNull();
    expect(await row(used.client_id)).not.toBeNull();
    expect(await row(admins.client_id)).toMatchObject({ registered_openly: 0 });
    const audit = await env.DB.prepare(
      "SELECT actor, detail FROM audit_events WHERE event = 'client_deleted' AND subject = ?1",
    )
      .bind(idle.client_id)
      .first<{ actor: string; detail: string }>();
    expect(audit).toEqual({ actor: 'cleanup', detail: JSON.stringify({ via: 'idle' }) });

    // 31 days on, `used` is idle too: it goes with its refresh tokens.
    const advance = freezeClock();
    advance(31 * 86_400 + 86_400);
    await runCleanup({ ...env, OPEN_CLIENT_IDLE_DAYS: '30' });
    expect(await row(used.client_id)).toBeNull();
    const left = await env.DB.prepare('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1')
      .bind(used.client_id)
      .first<{ n: number }>();
    expect(left).toEqual({ n: 0 });
    expect(tokens.refresh_token).toBeDefined();
  });
});
