import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/lib/clock';
import { resetRevocationSnapshot, SNAPSHOT_SECONDS } from '../../src/storage/revocations';
import { errorOf, expectTokens, seedClient, tokenRequest } from '../helpers';
import {
  claimsOf,
  formPost,
  freezeClock,
  introspect,
  me,
  revocationRows,
  revokeRequest,
  userTokens,
} from '../ops-helpers';

beforeEach(() => resetRevocationSnapshot());

describe('POST /oauth2/revoke (RFC 7009)', () => {
  it('revokes an access token: introspection at once, protected routes at once in this isolate', async () => {
    const { client, tokens } = await userTokens();
    expect((await me(tokens.access_token)).status).toBe(200);
    const res = await revokeRequest(client, { token: tokens.access_token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    const after = await me(tokens.access_token);
    expect(after.status).toBe(401);
    expect(after.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    // The refresh token of the same grant still works: only the access token was revoked.
    await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { client }),
    );
  });

  it('a revocation made elsewhere reaches protected routes within the snapshot bound, without a read per request', async () => {
    const advance = freezeClock();
    const { tokens } = await userTokens();
    expect((await me(tokens.access_token)).status).toBe(200); // loads this isolate's snapshot
    const claims = claimsOf(tokens.access_token);
    // Another isolate revokes: the row lands in D1 without touching this isolate's snapshot.
    await env.DB.prepare('INSERT INTO revocations (kind, value, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)')
      .bind('jti', claims.jti, nowSeconds(), claims.exp)
      .run();
    advance(SNAPSHOT_SECONDS - 1);
    expect((await me(tokens.access_token)).status).toBe(200); // still the cached snapshot: no D1 read
    advance(1);
    expect((await me(tokens.access_token)).status).toBe(401); // refreshed: honoured within 30 s (< 60 s)
  });

  it('keeps a revoked access token refused through the clock tolerance after its exp', async () => {
    const start = Date.now();
    const advance = freezeClock(start);
    const { client, tokens } = await userTokens();
    expect((await revokeRequest(client, { token: tokens.access_token })).status).toBe(200);
    const { exp } = claimsOf(tokens.access_token);
    advance(exp - Math.floor(start / 1000) + 10); // past exp, inside the 30 s tolerance: the JWT alone still verifies
    resetRevocationSnapshot();
    const res = await me(tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('revoked');
  });

  it('revokes a refresh token and its whole family', async () => {
    const { client, tokens } = await userTokens();
    const rotated = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { client }),
    );
    expect((await introspect(client, rotated.refresh_token!)).active).toBe(true);
    const res = await revokeRequest(client, { token: rotated.refresh_token!, token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    const refused = await errorOf(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token! }, { client }),
    );
    expect(refused).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await introspect(client, rotated.refresh_token!)).toEqual({ active: false });
    const { results } = await env.DB.prepare('SELECT revoked_at FROM refresh_tokens WHERE client_id = ?1')
      .bind(client.id)
      .all<{ revoked_at: number | null }>();
    expect(results.length).toBe(2);
    expect(results.every((r) => r.revoked_at !== null)).toBe(true);
  });

  it('finds the token whatever the hint says', async () => {
    const { client, tokens } = await userTokens();
    expect(
      (await revokeRequest(client, { token: tokens.refresh_token!, token_type_hint: 'access_token' })).status,
    ).toBe(200);
    expect((await revokeRequest(client, { token: tokens.access_token, token_type_hint: 'refresh_token' })).status).toBe(
      200,
    );
    expect(
      (await revokeRequest(client, { token: tokens.access_token, token_type_hint: 'something_else' })).status,
    ).toBe(200);
    expect(await introspect(client, tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
  });

  it("refuses (silently, with 200) to revoke another client's tokens", async () => {
    const { client, tokens } = await userTokens();
    const other = await seedClient();
    expect((await revokeRequest(other, { token: tokens.access_token })).status).toBe(200);
    expect((await revokeRequest(other, { token: tokens.refresh_token! })).status).toBe(200);
    expect((await me(tokens.access_token)).status).toBe(200);
    expect((await introspect(client, tokens.access_token)).active).toBe(true);
    expect((await introspect(client, tokens.refresh_token!)).active).toBe(true);
    expect(await revocationRows(claimsOf(tokens.access_token).jti)).toBe(0);
  });

  it('answers 200 for unknown, malformed and expired tokens', async () => {
    const advance = freezeClock();
    const { client, tokens } = await userTokens();
    for (const token of ['no-such-token', 'a.b.c', 'x'.repeat(5000), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      expect((await revokeRequest(client, { token })).status).toBe(200);
    }
    advance(3600 + 31);
    expect((await revokeRequest(client, { token: tokens.access_token })).status).toBe(200);
    expect(await revocationRows(claimsOf(tokens.access_token).jti)).toBe(0); // expired: nothing to list
  });

  it('requires the token parameter and client authentication', async () => {
    const client = await seedClient();
    expect(await errorOf(await revokeRequest(client, {}))).toMatchObject({ status: 400, error: 'invalid_request' });
    const res = await formPost('/oauth2/revoke', { token: 'x' });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).error).toBe('invalid_client');
    expect(await errorOf(await revokeRequest({ id: client.id, secret: 'wrong' }, { token: 'x' }))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('lets a public client revoke its own refresh token', async () => {
    const pub = await seedClient({ confidential: false, grantTypes: ['authorization_code', 'refresh_token'] });
    const { newRefreshFamily } = await import('../../src/storage/refresh-tokens');
    const rt = await newRefreshFamily(env.DB, {
      clientId: pub.id,
      userId: null,
      scope: 'files',
      scopeMask: 2,
      ttlSeconds: 3600,
    });
    await rt.statement.run();
    const res = await formPost('/oauth2/revoke', { token: rt.token, client_id: pub.id });
    expect(res.status).toBe(200);
    const row = await env.DB.prepare('SELECT revoked_at FROM refresh_tokens WHERE family_id = ?1')
      .bind(rt.familyId)
      .first<{ revoked_at: number | null }>();
    expect(row!.revoked_at).not.toBeNull();
  });
});
