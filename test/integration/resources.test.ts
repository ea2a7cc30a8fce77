import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { clock } from '../../src/lib/clock';
import { call, expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';

const me = (token?: string, scheme = 'Bearer') =>
  call('/v1/me', token ? { headers: { Authorization: `${scheme} ${token}` } } : undefined);

describe('GET /v1/me and the bearer middleware (RFC 6750)', () => {
  it('answers who a client token is for', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
    const res = await me(access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ type: 'client', sub: client.id, client_id: client.id, scope: 'base' });
  });

  it('answers who a user token is for', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    expect(await (await me(access_token)).json()).toMatchObject({
      type: 'user',
      sub: user.id,
      email: user.email,
      client_id: client.id,
    });
  });

  it('no token: 401 with a bare Bearer challenge', async () => {
    const res = await me();
    expect(res.status).toBe(401);
    const challenge = res.headers.get('WWW-Authenticate')!;
    expect(challenge).toMatch(/^Bearer realm="api"/);
    expect(challenge).not.toContain('error=');
  });

  it('wrong scope: 403 insufficient_scope', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client }),
    );
    const res = await me(access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('WWW-Authenticate')).toContain('scope="base"');
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('garbage token: 401 invalid_token', async () => {
    const res = await me('abc.def.ghi');
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  });

  it('malformed Authorization header: 400 invalid_request', async () => {
    const res = await call('/v1/me', { headers: { Authorization: 'Bearer a b c' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_request"');
  });

  it('expired token: 401 invalid_token after exp plus tolerance (injected clock)', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
    const issued = Date.now();
    clock.now = () => issued + 3600_000 + 10_000; // within the 30 s tolerance
    expect((await me(access_token)).status).toBe(200);
    clock.now = () => issued + 3600_000 + 60_000;
    const res = await me(access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('The access token has expired');
  });
});

describe('discovery (RFC 8414) and JWKS', () => {
  it('publishes metadata for the issuer', async () => {
    const res = await call('/.well-known/oauth-authorization-server');
    expect(res.status).toBe(200);
    const meta = await res.json<Record<string, unknown>>();
    expect(meta).toMatchObject({
      issuer: 'http://localhost:8787',
      token_endpoint: 'http://localhost:8787/oauth2/token',
      jwks_uri: 'http://localhost:8787/.well-known/jwks.json',
      // 'none': public clients of the code flow (PKCE, RFC 8414 §2); private_key_jwt: RFC 7523 §2.2 (issue 13)
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    });
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'password', 'refresh_token']),
    );
    // Issue 15: the OpenID Connect scopes after the API's own.
    expect(meta.scopes_supported).toEqual([
      'base',
      'files',
      'upload_files',
      'openid',
      'profile',
      'email',
      'offline_access',
    ]);
  });

  it('publishes every ring key, public parts only', async () => {
    const jwks = await (await call('/.well-known/jwks.json')).json<{ keys: Record<string, unknown>[] }>();
    // Issue 15: the RS256 key signs ID tokens (OpenID Connect Core §15.1).
    expect(jwks.keys.map((k) => k.kid)).toEqual(['test-es256-a', 'test-es256-b', 'test-rs256-a']);
    for (const k of jwks.keys.slice(0, 2)) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(k.d).toBeUndefined();
    }
    expect(jwks.keys[2]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[2][m]).toBeUndefined();
  });
});

describe('configuration validation', () => {
  const fetchWith = (overrides: Record<string, unknown>) =>
    app.fetch(
      new Request('http://localhost:8787/.well-known/jwks.json'),
      { ...env, ...overrides },
      createExecutionContext(),
    );

  it.each([
    ['ISSUER', undefined, 'ISSUER is missing'],
    ['ISSUER', 'http://evil.example', 'ISSUER must be an https URL'],
    ['ACCESS_TOKEN_TTL', 'soon', 'ACCESS_TOKEN_TTL must be a whole number'],
    ['SIGNING_KEYS', 'not json', 'SIGNING_KEYS is not valid JSON'],
    ['SIGNING_KEYS', '{"keys":[]}', 'SIGNING_KEYS must hold at least one key'],
    ['KEY_ENCRYPTION_KEY', 'short', 'KEY_ENCRYPTION_KEY must be 32 random bytes'],
  ])('%s=%s answers 500 server_error naming the setting', async (name, value, expected) => {
    const res = await fetchWith({ [name]: value });
    expect(res.status).toBe(500);
    const body = await res.json<{ error: string; error_description: string }>();
    expect(body.error).toBe('server_error');
    expect(body.error_description).toContain(expected);
  });

  it('accepts the defaults for optional settings', async () => {
    const res = await fetchWith({ ACCESS_TOKEN_TTL: undefined, REFRESH_TOKEN_TTL: undefined });
    expect(res.status).toBe(200);
  });
});
