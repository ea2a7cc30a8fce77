/**
 * Issue 14 part 1: the product's TokenVerifier entrypoint, called through a real service binding (vitest.config.ts
 * binds `AUTH` to `{ name: 'edge-oauth', entrypoint: 'TokenVerifier' }`, as a resource-server Worker's
 * `[[services]]` entry would), with real tokens from the token endpoint and real D1. A tiny resource "Worker"
 * (`resourceFetch`, below) shows the ten lines a caller writes.
 */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import example from '../../examples/service-binding/worker';
import { TokenVerifier } from '../../src/rpc/token-verifier';
import { revokeStatement } from '../../src/storage/revocations';
import { expectTokens, seedClient, tokenRequest } from '../helpers';
import { admin, json, me, revokeRequest, userTokens } from '../ops-helpers';
import {
  claims,
  forge,
  METADATA_URL,
  productSigningKey,
  productToken,
  productVerifier,
  resourceRequest,
} from '../resource-server/rs-helpers';

const AUTH = env.AUTH;
const opts = { scopes: ['base'], resourceMetadata: METADATA_URL };

/** What a resource-server Worker does with the binding: verify, then answer 200 or the refusal as RFC 6750 says. */
async function resourceFetch(request: Request, authEnv: { AUTH: typeof AUTH } = env): Promise<Response> {
  const result = await authEnv.AUTH.verifyRequest(request, opts);
  if (!result.ok) {
    // A refusal carries its RFC 6750 challenge; temporarily_unavailable its Retry-After (RFC 9110 §10.2.3).
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
    if ('challenge' in result) headers['WWW-Authenticate'] = result.challenge;
    else headers['Retry-After'] = String(result.retryAfter);
    return new Response(JSON.stringify({ error: result.error, error_description: result.description }), {
      status: result.status,
      headers,
    });
  }
  return Response.json({ sub: result.claims.sub, scopes: result.scopes });
}

/** The error an RPC call rejects with, as "Name: message" (awaited here, so no rejection is left unhandled). */
function rejection(p: Promise<unknown>): Promise<string> {
  return Promise.resolve(p).then(
    () => 'resolved',
    (e: Error) => `${e.name}: ${e.message}`,
  );
}

function expectRefusal(result: unknown, error: string, status: number, challenge: string | RegExp): void {
  expect(result).toMatchObject({ ok: false, error, status });
  const c = (result as { challenge: string }).challenge;
  if (typeof challenge === 'string') expect(c).toBe(challenge);
  else expect(c).toMatch(challenge);
}

const invalidToken = (description: string) =>
  `Bearer error="invalid_token", error_description="${description}", resource_metadata="${METADATA_URL}"`;

describe('TokenVerifier over a service binding: acceptance and refusals', () => {
  it('a valid token is accepted with its claims', async () => {
    const token = await productToken('base files');
    const result = await AUTH.verify(token, opts);
    expect(result).toMatchObject({
      ok: true,
      scopes: ['base', 'files'],
      claims: { iss: env.ISSUER, aud: env.ACCESS_TOKEN_AUDIENCE, scope: 'base files' },
    });
    // And through the caller's fetch handler: the HTTP answer a resource Worker gives.
    const res = await resourceFetch(resourceRequest(token));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scopes: ['base', 'files'] });
  });

  it('an expired token is invalid_token with the exact challenge', async () => {
    const { jwk, key } = await productSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await forge(claims({ iat: now - 7200, exp: now - 3600 }), { kid: jwk.kid }, key);
    expectRefusal(await AUTH.verify(token, opts), 'invalid_token', 401, invalidToken('The access token has expired.'));
  });

  it('a forged token (our kid, another key) is invalid_token', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await forge(claims(), { kid: (await productSigningKey()).jwk.kid }, privateKey);
    expectRefusal(await AUTH.verify(token, opts), 'invalid_token', 401, invalidToken('The access token is invalid.'));
    expectRefusal(
      await AUTH.verify('not-a-jwt', opts),
      'invalid_token',
      401,
      invalidToken('The access token is not a signed JWT.'),
    );
  });

  it('a token for another audience is invalid_token, whether its aud or the caller says so', async () => {
    const { jwk, key } = await productSigningKey();
    const other = await forge(claims({ aud: 'https://other.example/api' }), { kid: jwk.kid }, key);
    expectRefusal(
      await AUTH.verify(other, opts),
      'invalid_token',
      401,
      invalidToken('The access token is not meant for this resource.'),
    );
    // A real token, checked by a caller whose resource is another one.
    const token = await productToken('base');
    expectRefusal(
      await AUTH.verify(token, { ...opts, audience: 'https://other.example/api' }),
      'invalid_token',
      401,
      invalidToken('The access token is not meant for this resource.'),
    );
    expect((await AUTH.verify(token, { ...opts, audience: env.ACCESS_TOKEN_AUDIENCE })).ok).toBe(true);
  });

  it('a token without the scope is insufficient_scope (403) naming the scope', async () => {
    const token = await productToken('files');
    const result = await AUTH.verify(token, { scopes: ['base', 'upload_files'], resourceMetadata: METADATA_URL });
    expectRefusal(
      result,
      'insufficient_scope',
      403,
      `Bearer error="insufficient_scope", error_description="This request needs the scope base or upload_files.", scope="base upload_files", resource_metadata="${METADATA_URL}"`,
    );
    const res = await resourceFetch(resourceRequest(await productToken('upload_files')));
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope"');
    expect(await res.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'This request needs the scope "base".',
    });
  });

  it('without resource_metadata or realm the challenge has neither; with realm it leads', async () => {
    const { jwk, key } = await productSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await forge(claims({ iat: now - 7200, exp: now - 3600 }), { kid: jwk.kid }, key);
    expectRefusal(
      await AUTH.verify(token, { scopes: ['base'] }),
      'invalid_token',
      401,
      'Bearer error="invalid_token", error_description="The access token has expired."',
    );
    expectRefusal(
      await AUTH.verify(token, { scopes: ['base'], realm: 'ads' }),
      'invalid_token',
      401,
      /^Bearer realm="ads", error="invalid_token"/,
    );
  });
});

describe('TokenVerifier: revocation counts at once', () => {
  it('an access token revoked at /oauth2/revoke is refused on the next call, while the JWKS-only library still accepts it', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }),
    );
    const { verifier } = productVerifier();
    expect((await AUTH.verify(access_token, opts)).ok).toBe(true);
    expect((await revokeRequest(client, { token: access_token })).status).toBe(200);
    expectRefusal(
      await AUTH.verify(access_token, opts),
      'invalid_token',
      401,
      invalidToken('The access token has been revoked.'),
    );
    // packages/resource-server checks signature and claims only: a revoked token passes until its exp
    // (packages/resource-server/README.md, docs/resource-servers.md "revocation lag").
    expect((await verifier.verify(access_token, { scopes: ['base'] })).ok).toBe(true);
  });

  it('a revoked refresh family takes its access tokens with it at once', async () => {
    const { client, tokens } = await userTokens();
    expect((await AUTH.verify(tokens.access_token, opts)).ok).toBe(true);
    expect(
      (await revokeRequest(client, { token: tokens.refresh_token!, token_type_hint: 'refresh_token' })).status,
    ).toBe(200);
    expectRefusal(
      await AUTH.verify(tokens.access_token, opts),
      'invalid_token',
      401,
      invalidToken('The access token has been revoked.'),
    );
  });

  it('a disabled client’s tokens are refused at once', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }),
    );
    expect((await AUTH.verify(access_token, opts)).ok).toBe(true);
    await json(await admin('POST', `/clients/${client.id}/disable`), 200);
    expectRefusal(
      await AUTH.verify(access_token, opts),
      'invalid_token',
      401,
      invalidToken('The access token has been revoked.'),
    );
  });

  it('a deny-list row written elsewhere (another isolate) counts at once: no 30 s snapshot, unlike the product’s own routes', async () => {
    const token = await productToken('base');
    expect((await me(token)).status).toBe(200); // this isolate's snapshot is now fresh, without the row below
    const { jti, exp } = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as {
      jti: string;
      exp: number;
    };
    // Written straight to D1, not through revoke(), so this isolate's snapshot is not dropped.
    await revokeStatement(env.DB, 'jti', jti, exp).run();
    expect((await me(token)).status).toBe(200); // the snapshot lag of resource routes (docs/security.md)
    expectRefusal(
      await AUTH.verify(token, opts),
      'invalid_token',
      401,
      invalidToken('The access token has been revoked.'),
    );
  });
});

describe('TokenVerifier.verifyRequest: the product’s placement rule (RFC 6750 §2)', () => {
  it('no token: the bare challenge with the scope, missing: true', async () => {
    const result = await AUTH.verifyRequest(resourceRequest(null), opts);
    expect(result).toMatchObject({
      ok: false,
      error: 'invalid_token',
      status: 401,
      missing: true,
      challenge: `Bearer scope="base", resource_metadata="${METADATA_URL}"`,
    });
    const res = await resourceFetch(resourceRequest(null));
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(`Bearer scope="base", resource_metadata="${METADATA_URL}"`);
  });

  it('a token in the header and in the URL is invalid_request (400)', async () => {
    const token = await productToken('files');
    const result = await AUTH.verifyRequest(resourceRequest(token, 'both'), {
      ...opts,
      scopes: ['files'],
      allowQueryToken: true,
    });
    expectRefusal(
      result,
      'invalid_request',
      400,
      `Bearer error="invalid_request", error_description="Send the access token either in the Authorization header or in the access_token parameter, not both.", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('a URL token: refused unless the caller allows it; then only a files-only token', async () => {
    const files = await productToken('files');
    expectRefusal(
      await AUTH.verifyRequest(resourceRequest(files, 'query'), { ...opts, scopes: ['files'] }),
      'invalid_request',
      400,
      /error="invalid_request"/,
    );
    expect(
      await AUTH.verifyRequest(resourceRequest(files, 'query'), { ...opts, scopes: ['files'], allowQueryToken: true }),
    ).toMatchObject({ ok: true, scopes: ['files'] });
    const broad = await productToken('base files');
    const result = await AUTH.verifyRequest(resourceRequest(broad, 'query'), {
      ...opts,
      scopes: ['files'],
      allowQueryToken: true,
    });
    expectRefusal(
      result,
      'invalid_token',
      401,
      /^Bearer error="invalid_token", error_description="Only a token with scope files alone may be sent in the URL.*", scope="files", resource_metadata=/,
    );
  });

  it('takes a plain { authorization, url } as well as a Request', async () => {
    const token = await productToken('base');
    expect(
      await AUTH.verifyRequest({ authorization: `Bearer ${token}`, url: 'https://api.example/x' }, opts),
    ).toMatchObject({ ok: true });
    expectRefusal(
      await AUTH.verifyRequest({ authorization: 'Bearer', url: 'https://api.example/x' }, opts),
      'invalid_request',
      400,
      /error="invalid_request"/,
    );
  });

  it('the caller’s own mistakes are TypeErrors, not refusals', async () => {
    // Called on the class, not over the binding: the plugin's RPC wrapper prints every rejection it forwards.
    const direct = new TokenVerifier(createExecutionContext(), env);
    expect(await rejection(direct.verify('x', { scopes: [] }))).toMatch(
      /^TypeError: TokenVerifier: options.scopes must name at least one scope/,
    );
    expect(await rejection(direct.verify('x', { scopes: ['admin'] }))).toMatch(
      /^TypeError: TokenVerifier: unknown scopes \["admin"\]/,
    );
    expect(await rejection(direct.verifyRequest({ url: 'not a url' }, opts))).toMatch(
      /^TypeError: TokenVerifier: request.url must be an absolute URL/,
    );
  });
});

describe('TokenVerifier: storage failures and surface', () => {
  it('a D1 failure is temporarily_unavailable (503, retryAfter), never a thrown error', async () => {
    const token = await productToken('base');
    expect((await AUTH.verify(token, opts)).ok).toBe(true); // key ring loaded
    const broken = {
      ...env,
      DB: {
        prepare: () => {
          throw new Error('D1_ERROR: simulated outage');
        },
      } as unknown as D1Database,
    };
    const verifier = new TokenVerifier(createExecutionContext(), broken);
    const expected = {
      ok: false,
      error: 'temporarily_unavailable',
      status: 503,
      retryAfter: 5,
      description: 'The authorization server cannot check the token right now; try again shortly.',
    };
    expect(await verifier.verify(token, opts)).toEqual(expected);
    const res = await resourceFetch(resourceRequest(token), { AUTH: verifier as unknown as typeof AUTH });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(res.headers.get('WWW-Authenticate')).toBeNull();
  });

  it('the entrypoint answers 404 to fetch and exposes no other method of the Worker', async () => {
    const res = await AUTH.fetch('https://auth.internal/oauth2/token', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('');
    // Workers RPC exposes the entrypoint class's own prototype methods and nothing else (a call to any other name
    // rejects "The RPC receiver does not implement …"): these four are the whole surface.
    expect(Object.getOwnPropertyNames(TokenVerifier.prototype).sort()).toEqual([
      'constructor',
      'fetch',
      'metadata',
      'verify',
      'verifyRequest',
    ]);
  });

  it('metadata(): the caller’s RFC 9728 document naming this server, and its URL', async () => {
    expect(await AUTH.metadata({ scopesSupported: ['base'], resourceName: 'Ads API' })).toEqual({
      url: METADATA_URL,
      document: {
        resource: env.ACCESS_TOKEN_AUDIENCE,
        authorization_servers: [env.ISSUER],
        bearer_methods_supported: ['header'],
        scopes_supported: ['base'],
        resource_name: 'Ads API',
      },
    });
  });
});

describe('examples/service-binding/worker.ts, the documented resource Worker, over the binding', () => {
  const exampleEnv = { AUTH, RESOURCE: env.ACCESS_TOKEN_AUDIENCE };
  const get = (path: string, token?: string) =>
    example.fetch(
      new Request(`http://localhost:8787${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }),
      exampleEnv,
    );

  it('serves its RFC 9728 metadata at the path-suffixed well-known URL', async () => {
    const res = await get('/.well-known/oauth-protected-resource/v1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: env.ACCESS_TOKEN_AUDIENCE,
      authorization_servers: [env.ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['base'],
    });
  });

  it('200 with a valid token; 401 with the challenge without one; 401 revoked at once', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }),
    );
    const ok = await get('/v1/ads', access_token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ hello: client.id, scopes: ['base'] });
    const none = await get('/v1/ads');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe(`Bearer scope="base", resource_metadata="${METADATA_URL}"`);
    expect(none.headers.get('Cache-Control')).toBe('no-store');
    expect(await none.json()).toEqual({ error: 'invalid_token', error_description: 'An access token is required.' });
    expect((await revokeRequest(client, { token: access_token })).status).toBe(200);
    const revoked = await get('/v1/ads', access_token);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('WWW-Authenticate')).toBe(invalidToken('The access token has been revoked.'));
    expect(await revoked.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token has been revoked.',
    });
  });
});
