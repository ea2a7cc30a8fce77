/**
 * Issue 11 item 2: the per-client refresh-token policy. `rotate` (default): a new refresh token on every use, and
 * presenting a used one revokes the family (RFC 9700 §4.14.2). `reuse` (confidential clients only): the same refresh
 * token comes back and stays valid until its absolute expiry or revocation, for an integration written from seed 000
 * that keeps the refresh token it got first.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { Browser, signIn } from '../authz-helpers';
import { call, errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';
import { admin, freezeClock, introspect, json, me, revokeRequest } from '../ops-helpers';

/** A confidential client created through the admin API with the given policy, and a password-grant token pair. */
async function partner(policy?: 'rotate' | 'reuse') {
  const res = await admin('POST', '/clients', {
    client_name: 'Seed 000 integration',
    grant_types: ['password', 'refresh_token'],
    scope: 'base files',
    ...(policy ? { refresh_token_policy: policy } : {}),
  });
  const created = await json<{ client_id: string; client_secret: string; refresh_token_policy: string }>(res, 201);
  const client: TestClient = { id: created.client_id, secret: created.client_secret };
  const user = await seedUser();
  const first = await expectTokens(
    await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password, scope: 'base files' },
      { client },
    ),
  );
  return { client, user, created, first: first.refresh_token! };
}

const refresh = (client: TestClient, token: string, extra: Record<string, string> = {}) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: token, ...extra }, { client });

describe('refresh_token_policy "reuse": an integration that always presents its first refresh token', () => {
  it('works through five refreshes, each answering the same refresh_token and a working access token', async () => {
    const { client, user, created, first } = await partner('reuse');
    expect(created.refresh_token_policy).toBe('reuse');
    for (let i = 0; i < 5; i++) {
      const res = await refresh(client, first);
      expect(res.status).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      const body = await expectTokens(res);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'base files', refresh_token: first });
      expect(await (await me(body.access_token)).json()).toMatchObject({ sub: user.id });
    }
    // Nothing was rotated: still the family's one row, unused and active (RFC 7662).
    const rows = await env.DB.prepare(
      'SELECT COUNT(*) AS n, MAX(used_at) AS used FROM refresh_tokens WHERE client_id = ?1',
    )
      .bind(client.id)
      .first<{ n: number; used: number | null }>();
    expect(rows).toEqual({ n: 1, used: null });
    expect(await introspect(client, first)).toMatchObject({ active: true, client_id: client.id });
  });

  it('keeps the scope rules: narrowing for the access token only, never widening', async () => {
    const { client, first } = await partner('reuse');
    const narrowed = await expectTokens(await refresh(client, first, { scope: 'files' }));
    expect(narrowed).toMatchObject({ scope: 'files', refresh_token: first });
    expect((await expectTokens(await refresh(client, first))).scope).toBe('base files');
    const widened = await refresh(client, first, { scope: 'base files upload_files' });
    expect(widened.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(widened)).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('ends at revocation (RFC 7009): the same token is then invalid_grant, its access tokens 401', async () => {
    const { client, first } = await partner('reuse');
    const refreshed = await expectTokens(await refresh(client, first));
    expect((await me(refreshed.access_token)).status).toBe(200);
    expect((await revokeRequest(client, { token: first, token_type_hint: 'refresh_token' })).status).toBe(200);
    // issue 10 item 4: the access tokens refreshed from the grant carry its family and are refused too
    const after = await me(refreshed.access_token);
    expect(after.status).toBe(401);
    expect(after.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    const res = await refresh(client, first);
    expect(res.headers.get('Content-Type')).toContain('application/json');
    expect(await errorOf(res)).toEqual({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token has been revoked.',
    });
  });

  it('ends at the absolute expiry, which reuse does not extend (injected clock)', async () => {
    const advance = freezeClock();
    const { client, first } = await partner('reuse');
    advance(29 * 86_400);
    expect((await expectTokens(await refresh(client, first))).refresh_token).toBe(first);
    advance(86_400 + 1);
    expect(await errorOf(await refresh(client, first))).toEqual({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token has expired. Sign in again.',
    });
  });

  it('is bound to its client and to an active user', async () => {
    const { client, user, first } = await partner('reuse');
    const other = await seedClient({ refreshTokenPolicy: 'reuse' });
    expect(await errorOf(await refresh(other, first))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token was not issued to this client.',
    });
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?1").bind(user.id).run();
    expect(await errorOf(await refresh(client, first))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The user of this refresh token is disabled.',
    });
  });

  it('still treats a token rotated away before the switch to reuse as a replay: the family is revoked', async () => {
    const { client, created, first } = await partner('rotate');
    const second = (await expectTokens(await refresh(client, first))).refresh_token!;
    await json(await admin('PATCH', `/clients/${created.client_id}`, { refresh_token_policy: 'reuse' }), 200);
    expect((await expectTokens(await refresh(client, second))).refresh_token).toBe(second); // the current one is kept now
    expect(await errorOf(await refresh(client, first))).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await errorOf(await refresh(client, second))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token has been revoked.',
    });
  });
});

describe('refresh_token_policy "rotate" (the default)', () => {
  it('revokes the family on the second refresh of an integration that keeps its first token', async () => {
    const { client, created, first } = await partner();
    expect(created.refresh_token_policy).toBe('rotate');
    const one = await expectTokens(await refresh(client, first));
    expect(one.refresh_token).not.toBe(first);
    // Past REFRESH_REUSE_GRACE_SECONDS (30 s), so not a lost-reply retry (test/faults/refresh-retry.test.ts).
    const start = Date.now();
    clock.now = () => start + 31_000;
    const two = await refresh(client, first);
    expect(two.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(two)).toEqual({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token was already used; every token of this grant has been revoked. Sign in again.',
    });
    expect(await errorOf(await refresh(client, one.refresh_token!))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
  });
});

describe('who may choose "reuse"', () => {
  it('the admin API shows the policy and changes it for a confidential client', async () => {
    const { created } = await partner();
    const updated = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${created.client_id}`, { refresh_token_policy: 'reuse' }),
      200,
    );
    expect(updated).toMatchObject({ refresh_token_policy: 'reuse', confidential: true });
    expect(await json(await admin('GET', `/clients/${created.client_id}`), 200)).toMatchObject({
      refresh_token_policy: 'reuse',
    });
    const bad = await admin('PATCH', `/clients/${created.client_id}`, { refresh_token_policy: 'sometimes' });
    expect(await errorOf(bad)).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description: '"refresh_token_policy" must be "rotate" or "reuse".',
    });
  });

  it('a public client cannot be set to reuse: admin API 400 on create and on PATCH, nothing stored', async () => {
    const publicClient = {
      client_name: 'SPA',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://spa.example/cb'],
    };
    const refused = await admin('POST', '/clients', { ...publicClient, refresh_token_policy: 'reuse' });
    expect(refused.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(refused)).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description:
        'A public client cannot have refresh_token_policy "reuse": its refresh tokens always rotate (RFC 9700 §4.14.2).',
    });
    expect(
      await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM clients WHERE name = 'SPA' AND refresh_token_policy = 'reuse'",
      ).first('n'),
    ).toBe(0);
    const created = await json<{ client_id: string; refresh_token_policy: string }>(
      await admin('POST', '/clients', publicClient),
      201,
    );
    expect(created.refresh_token_policy).toBe('rotate');
    expect(
      await errorOf(await admin('PATCH', `/clients/${created.client_id}`, { refresh_token_policy: 'reuse' })),
    ).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    expect(await json(await admin('GET', `/clients/${created.client_id}`), 200)).toMatchObject({
      refresh_token_policy: 'rotate',
    });
  });

  it('the database refuses reuse for a public client too (CHECK of migrations/0008)', async () => {
    const spa = await seedClient({ confidential: false });
    await expect(
      env.DB.prepare("UPDATE clients SET refresh_token_policy = 'reuse' WHERE id = ?1").bind(spa.id).run(),
    ).rejects.toThrow(/CHECK/);
  });

  it('dynamic registration (RFC 7591) refuses reuse with invalid_client_metadata and spends no initial access token', async () => {
    const iat = (
      await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', { max_uses: 1 }), 201)
    ).initial_access_token;
    const register = (body: unknown) =>
      call('/oauth2/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${iat}` },
        body: JSON.stringify(body),
      });
    const app = { client_name: 'Registered', grant_types: ['client_credentials', 'refresh_token'] };
    const res = await register({ ...app, refresh_token_policy: 'reuse' });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(res)).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
      description:
        'Dynamic registration cannot choose refresh_token_policy "reuse": refresh tokens rotate (RFC 9700 §4.14.2); ask the administrator.',
    });
    const ok = await json<{ client_id: string }>(await register({ ...app, refresh_token_policy: 'rotate' }), 201);
    expect(await json(await admin('GET', `/clients/${ok.client_id}`), 200)).toMatchObject({
      refresh_token_policy: 'rotate',
    });
  });

  it('the portal offers the choice to web applications and refuses reuse for a public one', async () => {
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    const form = await (await b.get('/apps/new')).text();
    expect(form).toContain('name="refresh_token_policy" value="reuse"');
    const fields = {
      csrf: b.csrf(),
      name: 'Partner web app',
      redirect_uris: 'https://partner.example/cb',
      scope_base: '1',
      refresh_token_policy: 'reuse',
    };
    const refused = await b.post('/apps', { ...fields, client_type: 'public' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('Content-Type')).toContain('text/html');
    expect(await refused.text()).toContain('always gets a new refresh token on every use');
    expect(
      await env.DB.prepare('SELECT COUNT(*) AS n FROM clients WHERE owner_user_id = ?1').bind(user.id).first('n'),
    ).toBe(0);

    const created = await b.post('/apps', { ...fields, client_type: 'confidential' });
    expect(created.status).toBe(201);
    const id = /<dd id="client-id">([^<]+)<\/dd>/.exec(await created.text())![1];
    expect(
      await env.DB.prepare('SELECT refresh_token_policy FROM clients WHERE id = ?1')
        .bind(id)
        .first('refresh_token_policy'),
    ).toBe('reuse');
    const edit = await (await b.get(`/apps/${id}`)).text();
    expect(edit).toMatch(/value="reuse" checked/);
  });
});
