import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { resetRevocationSnapshot } from '../../src/storage/revocations';
import { basic, errorOf, expectTokens, tokenRequest } from '../helpers';
import { admin, json, me } from '../ops-helpers';

describe('admin API authentication', () => {
  it('refuses a missing token with a bare Bearer challenge', async () => {
    const res = await admin('GET', '/clients', undefined, null);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="admin"');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('refuses a wrong token, of any length', async () => {
    for (const token of ['wrong', `${env.ADMIN_TOKEN}x`, (env.ADMIN_TOKEN as string).slice(0, -1)]) {
      const res = await admin('GET', '/clients', undefined, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
      expect((await errorOf(res)).error).toBe('invalid_token');
    }
  });

  it('answers 404 when ADMIN_TOKEN is not configured (the admin API is off)', async () => {
    const { ADMIN_TOKEN: _unset, ...rest } = env as unknown as Record<string, unknown>;
    const res = await app.fetch(
      new Request('http://localhost:8787/admin/clients', { headers: { Authorization: 'Bearer anything-at-all' } }),
      rest as unknown as Env,
    );
    expect(res.status).toBe(404);
    expect((await errorOf(res)).description).toContain('ADMIN_TOKEN');
  });

  it('refuses Basic credentials and other schemes', async () => {
    const res = await admin('GET', '/clients', undefined, null);
    expect(res.status).toBe(401);
    const basicRes = await fetchAdmin({ Authorization: basic('admin', env.ADMIN_TOKEN as string) });
    expect(basicRes.status).toBe(401);
  });
});

async function fetchAdmin(headers: Record<string, string>) {
  const { call } = await import('../helpers');
  return call('/admin/clients', { headers });
}

describe('admin API: clients', () => {
  it('creates, lists, shows, updates, rotates, disables, enables and deletes a client', async () => {
    const created = await json<{ client_id: string; client_secret: string; grant_types: string[] }>(
      await admin('POST', '/clients', {
        client_name: 'Partner',
        grant_types: ['client_credentials', 'password', 'refresh_token'],
        scope: 'base files',
      }),
      201,
    );
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const client = { id: created.client_id, secret: created.client_secret };
    const token = (await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client })))
      .access_token;

    const list = await json<{ clients: { client_id: string }[] }>(await admin('GET', '/clients'), 200);
    expect(list.clients.map((c) => c.client_id)).toContain(client.id);
    const shown = await json<Record<string, unknown>>(await admin('GET', `/clients/${client.id}`), 200);
    expect(shown).toMatchObject({
      client_id: client.id,
      client_name: 'Partner',
      status: 'active',
      scope: 'base files',
    });
    expect(JSON.stringify(shown)).not.toContain(created.client_secret);

    const updated = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${client.id}`, { client_name: 'Partner 2', scope: 'files' }),
      200,
    );
    expect(updated).toMatchObject({ client_name: 'Partner 2', scope: 'files' });
    expect(
      await errorOf(await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client })),
    ).toMatchObject({ error: 'invalid_scope' });

    const bad = await admin('PATCH', `/clients/${client.id}`, { redirect_uris: ['http://evil.example/cb'] });
    expect(await errorOf(bad)).toMatchObject({ status: 400, error: 'invalid_redirect_uri' });

    const rotated = await json<{ client_secret: string }>(
      await admin('POST', `/clients/${client.id}/rotate-secret`),
      200,
    );
    expect(rotated.client_secret).not.toBe(client.secret);
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client })).status).toBe(401);
    client.secret = rotated.client_secret;
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client }));

    await json(await admin('POST', `/clients/${client.id}/disable`), 200);
    resetRevocationSnapshot();
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client })).status).toBe(401);
    expect((await me(token)).status).toBe(401); // its access tokens are on the deny-list
    await json(await admin('POST', `/clients/${client.id}/enable`), 200);
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client }));

    expect((await admin('DELETE', `/clients/${client.id}`)).status).toBe(204);
    expect((await admin('GET', `/clients/${client.id}`)).status).toBe(404);
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client })).status).toBe(401);

    const events = await json<{ events: { event: string; subject: string }[] }>(
      await admin('GET', '/audit?limit=50'),
      200,
    );
    const mine = events.events.filter((e) => e.subject === client.id).map((e) => e.event);
    for (const e of [
      'client_created',
      'client_updated',
      'client_secret_rotated',
      'client_deleted',
      'client_auth_failed',
    ])
      expect(mine).toContain(e);
  });

  it('validates client metadata with RFC 7591 errors', async () => {
    expect(
      await errorOf(await admin('POST', '/clients', { client_name: 'x', grant_types: ['implicit'] })),
    ).toMatchObject({ error: 'invalid_client_metadata' });
    expect(
      await errorOf(await admin('POST', '/clients', { client_name: 'x', grant_types: ['authorization_code'] })),
    ).toMatchObject({ error: 'invalid_redirect_uri' });
    expect(await errorOf(await admin('POST', '/clients', { grant_types: ['client_credentials'] }))).toMatchObject({
      error: 'invalid_client_metadata',
    });
    expect(await errorOf(await admin('POST', '/clients', 'not an object'))).toMatchObject({
      status: 400,
      error: 'invalid_client_metadata',
    });
    expect((await admin('GET', '/clients/nope')).status).toBe(404);
  });
});

describe('admin API: users, initial access tokens, audit', () => {
  it('creates a user, resets the password, disables (signing out) and enables', async () => {
    const client = await json<{ client_id: string; client_secret: string }>(
      await admin('POST', '/clients', { client_name: 'Pw', grant_types: ['password', 'refresh_token'] }),
      201,
    );
    const c = { id: client.client_id, secret: client.client_secret };
    const created = await json<{ id: string; email: string; password?: string }>(
      await admin('POST', '/users', { email: 'Ops@Example.com', password: 'first password' }),
      201,
    );
    expect(created.email).toBe('ops@example.com');
    expect(created.password).toBeUndefined();
    expect(JSON.stringify(created)).not.toContain('pbkdf2');
    expect((await admin('POST', '/users', { email: 'ops@example.com', password: 'first password' })).status).toBe(409);
    expect(await errorOf(await admin('POST', '/users', { email: 'nope', password: 'x' }))).toMatchObject({
      error: 'invalid_request',
    });

    const tokens = await expectTokens(
      await tokenRequest(
        { grant_type: 'password', username: 'ops@example.com', password: 'first password' },
        { client: c },
      ),
    );
    const reset = await json<{ password: string }>(await admin('POST', '/users/ops@example.com/password'), 200);
    expect(reset.password.length).toBeGreaterThanOrEqual(20);
    expect(
      (
        await tokenRequest(
          { grant_type: 'password', username: 'ops@example.com', password: 'first password' },
          { client: c },
        )
      ).status,
    ).toBe(400);
    await expectTokens(
      await tokenRequest(
        { grant_type: 'password', username: 'ops@example.com', password: reset.password },
        { client: c },
      ),
    );
    const failed = await json<{ events: { event: string; subject: string; detail: { reason: string } }[] }>(
      await admin('GET', '/audit?event=login_failed'),
      200,
    );
    expect(failed.events.find((e) => e.subject === created.id)?.detail.reason).toBe('wrong_password');

    await json(await admin('POST', `/users/${created.id}/disable`), 200);
    resetRevocationSnapshot();
    expect((await me(tokens.access_token)).status).toBe(401);
    expect(
      (await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { client: c })).status,
    ).toBe(400);
    const shown = await json<{ status: string }>(await admin('POST', `/users/${created.id}/enable`), 200);
    expect(shown.status).toBe('active');
  });

  it('issues initial access tokens and lists audit events, filtered', async () => {
    const issued = await json<{ initial_access_token: string; expires_at: number; max_uses: number }>(
      await admin('POST', '/initial-access-tokens', { expires_in: 3600, max_uses: 2, label: 'partner onboarding' }),
      201,
    );
    expect(issued.initial_access_token).toMatch(/^iat_/);
    expect(issued.max_uses).toBe(2);
    const row = await env.DB.prepare('SELECT hash FROM initial_access_tokens WHERE hash = ?1')
      .bind(issued.initial_access_token)
      .first();
    expect(row).toBeNull(); // only the hash is stored
    const events = await json<{ events: { event: string }[] }>(
      await admin('GET', '/audit?event=initial_access_token_issued'),
      200,
    );
    expect(events.events.length).toBeGreaterThan(0);
    expect(events.events.every((e) => e.event === 'initial_access_token_issued')).toBe(true);
    expect(await errorOf(await admin('GET', '/audit?limit=0'))).toMatchObject({ error: 'invalid_request' });
    expect(await errorOf(await admin('POST', '/initial-access-tokens', { expires_in: 5 }))).toMatchObject({
      error: 'invalid_request',
    });
  });
});
