import { env } from 'cloudflare:workers';
import { importJWK, type JWK, SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/lib/clock';
import { setUserStatus } from '../../src/services/user-account';
import { resetRevocationSnapshot, revoke } from '../../src/storage/revocations';
import { errorOf, expectTokens, ORIGIN, seedClient, tokenRequest } from '../helpers';
import { claimsOf, formPost, freezeClock, introspect, userTokens } from '../ops-helpers';

beforeEach(() => resetRevocationSnapshot());

describe('POST /oauth2/introspect (RFC 7662)', () => {
  it('describes an active access token with every member', async () => {
    const { client, user, tokens } = await userTokens();
    const body = await introspect(client, tokens.access_token);
    const c = claimsOf(tokens.access_token);
    expect(body).toEqual({
      active: true,
      scope: 'base',
      client_id: client.id,
      sub: user.id,
      exp: c.exp,
      iat: c.iat,
      iss: ORIGIN,
      aud: 'http://localhost:8787/v1',
      token_type: 'Bearer',
      jti: c.jti,
    });
  });

  it('describes an active refresh token (looked up by hash)', async () => {
    const { client, user, tokens } = await userTokens();
    const body = await introspect(client, tokens.refresh_token!, 'refresh_token');
    expect(body).toMatchObject({
      active: true,
      scope: 'base',
      client_id: client.id,
      sub: user.id,
      iss: ORIGIN,
      token_type: 'refresh_token',
    });
    expect(body.exp).toBeGreaterThan(nowSeconds() + 86_400);
    expect(body.iat).toBeLessThanOrEqual(nowSeconds());
  });

  it('reports expired access and refresh tokens inactive', async () => {
    const advance = freezeClock();
    const { client, tokens } = await userTokens();
    advance(3600 + 31); // past exp and the 30 s clock tolerance
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    advance(2_592_000);
    expect(await introspect(client, tokens.refresh_token!)).toEqual({ active: false });
  });

  it('reports revoked tokens inactive at once: jti, client and user deny-list, revoked and used refresh tokens', async () => {
    const a = await userTokens();
    await revoke(env.DB, 'jti', claimsOf(a.tokens.access_token).jti, claimsOf(a.tokens.access_token).exp);
    expect(await introspect(a.client, a.tokens.access_token)).toEqual({ active: false });

    const b = await userTokens();
    await setUserStatus(env, b.user.id, 'disabled');
    await revoke(env.DB, 'user', b.user.id, nowSeconds() + 3600);
    expect(await introspect(b.client, b.tokens.access_token)).toEqual({ active: false });
    expect(await introspect(b.client, b.tokens.refresh_token!)).toEqual({ active: false });

    const c = await userTokens();
    const rotated = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: c.tokens.refresh_token! }, { client: c.client }),
    );
    expect(await introspect(c.client, c.tokens.refresh_token!)).toEqual({ active: false }); // used
    expect((await introspect(c.client, rotated.refresh_token!)).active).toBe(true);
    await formPost('/oauth2/revoke', { token: rotated.refresh_token! }, c.client);
    expect(await introspect(c.client, rotated.refresh_token!)).toEqual({ active: false }); // revoked
  });

  it("reports another client's tokens inactive (RFC 7662 §4: nothing leaks)", async () => {
    const { tokens } = await userTokens();
    const other = await seedClient();
    expect(await introspect(other, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(other, tokens.refresh_token!)).toEqual({ active: false });
  });

  it('reports malformed, unknown and foreign-signed tokens inactive', async () => {
    const client = await seedClient();
    const foreign = await new SignJWT({ client_id: client.id, scope: 'base' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-ours' })
      .setIssuer(ORIGIN)
      .setSubject(client.id)
      .setAudience('http://localhost:8787/v1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti('j1')
      .sign((await importJWK(JSON.parse(env.TEST_OTHER_SIGNING_KEY) as JWK, 'ES256')) as CryptoKey);
    for (const token of ['garbage', 'a.b.c', 'x'.repeat(600), foreign]) {
      expect(await introspect(client, token)).toEqual({ active: false });
    }
  });

  it('requires an authenticated confidential client and a token', async () => {
    const client = await seedClient();
    expect(await errorOf(await formPost('/oauth2/introspect', {}, client))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    const anon = await formPost('/oauth2/introspect', { token: 'x' });
    expect(anon.status).toBe(401);
    expect((await errorOf(anon)).error).toBe('invalid_client');
    const pub = await seedClient({ confidential: false, grantTypes: ['authorization_code', 'refresh_token'] });
    const res = await formPost('/oauth2/introspect', { token: 'x', client_id: pub.id });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('Basic');
    expect((await errorOf(res)).error).toBe('invalid_client');
  });
});
