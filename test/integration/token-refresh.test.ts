import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { setUserStatus } from '../../src/services/user-account';
import { call, errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';

async function login(client: TestClient, scope?: string) {
  const user = await seedUser();
  const body = await expectTokens(
    await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password, ...(scope ? { scope } : {}) },
      { client },
    ),
  );
  return { user, ...body, refresh_token: body.refresh_token! };
}

const refresh = (client: TestClient, token: string, extra: Record<string, string> = {}) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: token, ...extra }, { client });

describe('refresh_token grant with rotation (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
  it('answers the seed 000 request and rotates the token', async () => {
    const client = await seedClient();
    const first = await login(client);
    const res = await refresh(client, first.refresh_token);
    const body = await expectTokens(res);
    expect(body.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(body.refresh_token).not.toBe(first.refresh_token);
    expect(body.scope).toBe('base');
    const me = await call('/v1/me', { headers: { Authorization: `Bearer ${body.access_token}` } });
    expect(await me.json()).toMatchObject({ type: 'user', sub: first.user.id, email: first.user.email });
  });

  it('revokes the whole family when a rotated token is reused, including the newest token', async () => {
    const client = await seedClient();
    const first = await login(client);
    const second = await expectTokens(await refresh(client, first.refresh_token));
    // Past REFRESH_REUSE_GRACE_SECONDS (30 s): no longer a lost-reply retry (test/faults/refresh-retry.test.ts).
    const start = Date.now();
    clock.now = () => start + 31_000;
    const reuse = await refresh(client, first.refresh_token);
    expect(await errorOf(reuse)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const newest = await refresh(client, second.refresh_token!);
    const err = await errorOf(newest);
    expect(err).toMatchObject({ status: 400, error: 'invalid_grant' });
    const audit = await env.DB.prepare('SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NOT NULL').first<{
      n: number;
    }>();
    expect(audit!.n).toBeGreaterThanOrEqual(2);
  });

  it('leaves exactly one live refresh token after 20 concurrent uses of one token (grace window)', async () => {
    const client = await seedClient();
    const first = await login(client);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(client, first.refresh_token)));
    // Within REFRESH_REUSE_GRACE_SECONDS each later use supersedes the unused successor of the one before (D1 runs the
    // batches one at a time), so every answer is a 200 and only the last successor lives; with the window off
    // (0) exactly one succeeds: test/faults/refresh-retry.test.ts.
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const live = await env.DB.prepare(
      `SELECT count(*) AS n FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
        AND family_id = (SELECT family_id FROM refresh_tokens WHERE hash = (SELECT replaced_by FROM refresh_tokens WHERE replaced_by IS NOT NULL AND client_id = ?1 LIMIT 1))`,
    )
      .bind(client.id)
      .first<{ n: number }>();
    expect(live!.n).toBe(1);
  });

  it('may narrow the scope for the access token; the refresh token keeps the original scope', async () => {
    const client = await seedClient();
    const first = await login(client, 'base files');
    const narrowed = await expectTokens(await refresh(client, first.refresh_token, { scope: 'files' }));
    expect(narrowed.scope).toBe('files');
    const again = await expectTokens(await refresh(client, narrowed.refresh_token!));
    expect(again.scope).toBe('base files');
  });

  it('never widens the scope: invalid_scope, and the token is not consumed', async () => {
    const client = await seedClient();
    const first = await login(client, 'files');
    const res = await refresh(client, first.refresh_token, { scope: 'files base' });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'invalid_scope' });
    await expectTokens(await refresh(client, first.refresh_token)); // still usable
  });

  it('refuses a token presented by another client without revoking it', async () => {
    const a = await seedClient();
    const b = await seedClient();
    const first = await login(a);
    const err = await errorOf(await refresh(b, first.refresh_token));
    expect(err).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token was not issued to this client.',
    });
    await expectTokens(await refresh(a, first.refresh_token));
  });

  it('expires at the absolute lifetime, rotation does not extend it (injected clock)', async () => {
    const client = await seedClient();
    const start = Date.now();
    clock.now = () => start;
    const first = await login(client);
    clock.now = () => start + 29 * 86_400_000;
    const second = await expectTokens(await refresh(client, first.refresh_token));
    clock.now = () => start + 30 * 86_400_000 + 1000;
    const err = await errorOf(await refresh(client, second.refresh_token!));
    expect(err).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The refresh token has expired. Sign in again.',
    });
  });

  it('refuses unknown and malformed tokens', async () => {
    const client = await seedClient();
    for (const t of ['nope', 'x'.repeat(600)]) {
      expect(await errorOf(await refresh(client, t))).toMatchObject({ status: 400, error: 'invalid_grant' });
    }
  });

  it('refuses a refresh token in the query string', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'refresh_token' }, { client, query: 'refresh_token=abc' });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('stops working when the user is disabled', async () => {
    const client = await seedClient();
    const first = await login(client);
    await setUserStatus(env, first.user.id, 'disabled');
    expect(await errorOf(await refresh(client, first.refresh_token))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('requires the refresh_token grant on the client: unauthorized_client', async () => {
    const client = await seedClient();
    const first = await login(client);
    const other = await seedClient({ grantTypes: ['client_credentials'] });
    expect(await errorOf(await refresh(other, first.refresh_token))).toMatchObject({ error: 'unauthorized_client' });
  });

  it('stores only hashes of refresh tokens', async () => {
    const client = await seedClient();
    const first = await login(client);
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM refresh_tokens WHERE hash = ?1')
      .bind(first.refresh_token)
      .first<{ n: number }>();
    expect(row!.n).toBe(0);
  });
});
