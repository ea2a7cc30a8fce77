import { env } from 'cloudflare:workers';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { updateClientAudited } from '../../src/services/update-client';
import { basic, call, errorOf, expectTokens, ORIGIN, seedClient, tokenRequest } from '../helpers';

describe('client_credentials grant (RFC 6749 §4.4, seeds 000 and 001)', () => {
  it('answers the seed 000 request: base by default, no refresh token, no-store', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'client_credentials' }, { client });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Pragma')).toBe('no-cache');
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    const body = await res.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'base' });
  });

  it('answers on the CitrusAd path /v1/oauth2/token (seed 001)', async () => {
    const client = await seedClient();
    const body = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials' }, { client, path: '/v1/oauth2/token' }),
    );
    expect(body.access_token.split('.')).toHaveLength(3);
  });

  it('issues a files-only token on request (seed 002)', async () => {
    const client = await seedClient();
    const body = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client }),
    );
    expect(body.scope).toBe('files');
  });

  it('issues an RFC 9068 JWT that verifies against the published JWKS', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'files upload_files' }, { client }),
    );
    const meta = await (await call('/.well-known/oauth-authorization-server')).json<{
      jwks_uri: string;
      issuer: string;
    }>();
    const jwksRes = await call(new URL(meta.jwks_uri).pathname);
    const jwks = await jwksRes.json<{ keys: Record<string, unknown>[] }>();
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d'); // never publish the private part
    const header = decodeProtectedHeader(access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    const key = await importJWK(jwks.keys.find((k) => k.kid === header.kid)! as never, 'ES256');
    const { payload } = await jwtVerify(access_token, key, {
      issuer: meta.issuer,
      audience: env.ACCESS_TOKEN_AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ iss: ORIGIN, sub: client.id, client_id: client.id, scope: 'files upload_files' });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('accepts client_secret_post from a client registered for it', async () => {
    const client = await seedClient({ authMethod: 'client_secret_post' });
    await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }),
    );
  });

  it('accepts form-encoded credentials in Basic (RFC 6749 §2.3.1)', async () => {
    const client = await seedClient({ id: 'odd:id+with%chars', secret: 'sec ret:+/%' });
    const res = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
  });

  it('refuses an unknown client and a wrong secret alike: 401, Basic challenge, no-store', async () => {
    const client = await seedClient();
    for (const c of [
      { id: client.id, secret: 'wrong' },
      { id: 'nobody', secret: client.secret },
    ]) {
      const res = await tokenRequest({ grant_type: 'client_credentials' }, { client: c });
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic realm=/);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      const err = await errorOf(res);
      expect(err.error).toBe('invalid_client');
      expect(err.description).toBe('Client authentication failed: unknown client or wrong secret.');
    }
  });

  it('refuses a request without client authentication', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).error).toBe('invalid_client');
  });

  it('refuses two authentication methods in one request', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'client_credentials', client_secret: client.secret }, { client });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.error).toBe('invalid_request');
    expect(err.description).toMatch(/one client authentication method/);
  });

  it('refuses a disabled client', async () => {
    const client = await seedClient();
    await updateClientAudited(env, client.id, { status: 'disabled' }, { actor: 'test', detail: {} });
    const res = await tokenRequest({ grant_type: 'client_credentials' }, { client });
    expect(res.status).toBe(401);
  });

  it('sees a secret rotation at once (KV cache invalidated)', async () => {
    const client = await seedClient();
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client })); // warms the cache
    const { rotateClientSecret } = await import('../../src/storage/clients');
    const secret = await rotateClientSecret(env.DB, env.CACHE, client.id);
    expect((await tokenRequest({ grant_type: 'client_credentials' }, { client })).status).toBe(401);
    await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials' }, { client: { id: client.id, secret: secret! } }),
    );
  });

  it('refuses scopes the client is not allowed: invalid_scope', async () => {
    const client = await seedClient({ scopes: ['files'] });
    const res = await tokenRequest({ grant_type: 'client_credentials' }, { client }); // default base
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ error: 'invalid_scope' });
    const res2 = await tokenRequest({ grant_type: 'client_credentials', scope: 'files admin' }, { client });
    expect(await errorOf(res2)).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('refuses a client not registered for the grant: unauthorized_client', async () => {
    const client = await seedClient({ grantTypes: ['password'] });
    const res = await tokenRequest({ grant_type: 'client_credentials' }, { client });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a public client: client_credentials is for confidential clients only', async () => {
    const client = await seedClient({ confidential: false, grantTypes: ['client_credentials', 'authorization_code'] });
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: client.id });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });
});
