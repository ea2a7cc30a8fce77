/**
 * @edge-oauth/resource-server against the real product: tokens come from its token endpoint, discovery and the
 * JWKS from its own routes (through the library's `fetch` option), forgeries are signed with its own key so that
 * each differs from a good token in the one way the test names. Every refusal is checked in full: code, status,
 * description and the exact RFC 6750 §3 challenge with RFC 9728 §5.1 `resource_metadata`.
 */
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createVerifier, ResourceServerUnavailableError } from '../../packages/resource-server/src/index';
import { expectTokens, seedClient, tokenRequest } from '../helpers';
import { claimsOf, introspect, revokeRequest } from '../ops-helpers';
import {
  AUDIENCE,
  claims,
  forge,
  ISSUER,
  METADATA_URL,
  productFetch,
  productSigningKey,
  productToken,
  productVerifier,
  resourceRequest,
} from './rs-helpers';

const invalidToken = (description: string) => ({
  ok: false,
  error: 'invalid_token',
  status: 401,
  description,
  missing: false,
  challenge: `Bearer error="invalid_token", error_description="${description}", resource_metadata="${METADATA_URL}"`,
});

describe('createVerifier: tokens of the product', () => {
  it('accepts a real token, finding the JWKS through RFC 8414 discovery, then verifies from cache', async () => {
    const token = await productToken('base files');
    const { verifier, paths } = productVerifier();
    const result = await verifier.verify(token, { scopes: ['files'] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const expected = claimsOf(token);
    expect(result.claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: expected.sub,
      client_id: expected.client_id,
      jti: expected.jti,
      scope: 'base files',
    });
    expect(result.scopes).toEqual(['base', 'files']);
    expect(result.fromQuery).toBe(false);
    expect(paths).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']);
    // The same and another token: no more fetches (discovery and the key set are cached).
    expect((await verifier.verify(token)).ok).toBe(true);
    expect((await verifier.verify(await productToken('files'))).ok).toBe(true);
    expect(paths).toHaveLength(2);
  });

  it('uses jwksUri when given, without discovery', async () => {
    const { verifier, paths } = productVerifier({ jwksUri: `${ISSUER}/.well-known/jwks.json` });
    expect((await verifier.verify(await productToken())).ok).toBe(true);
    expect(paths).toEqual(['/.well-known/jwks.json']);
  });

  it('refuses an expired token, with the 30 s clock tolerance of the server', async () => {
    const token = await productToken();
    const { exp } = claimsOf(token);
    const at = (seconds: number) => productVerifier({ now: () => seconds * 1000 }).verifier;
    expect((await at(exp + 29).verify(token)).ok).toBe(true);
    expect(await at(exp + 30).verify(token)).toEqual({
      ...invalidToken('The access token has expired.'),
      reason: 'ERR_JWT_EXPIRED',
    });
    // clockTolerance: 0 refuses at exp itself.
    expect((await productVerifier({ now: () => exp * 1000, clockTolerance: 0 }).verifier.verify(token)).ok).toBe(false);
  });

  it('refuses a token issued in the future beyond the tolerance, and one not yet valid (nbf)', async () => {
    const { jwk, key } = await productSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const { verifier } = productVerifier();
    const future = await forge(claims({ iat: now + 120 }), { kid: jwk.kid }, key);
    expect(await verifier.verify(future)).toEqual(invalidToken('The access token was issued in the future.'));
    const notYet = await forge(claims({ nbf: now + 120 }), { kid: jwk.kid }, key);
    expect(await verifier.verify(notYet)).toMatchObject({
      error: 'invalid_token',
      status: 401,
      description: 'The access token is invalid.',
    });
    expect((await verifier.verify(await forge(claims(), { kid: jwk.kid }, key))).ok).toBe(true); // control
  });

  it('refuses a token for another audience (RFC 9068 §4: aud must be this resource)', async () => {
    const token = await productToken();
    const { verifier } = productVerifier({ audience: 'https://other.example/api' });
    const result = await verifier.verify(token);
    expect(result).toMatchObject({
      ok: false,
      error: 'invalid_token',
      status: 401,
      description: 'The access token is invalid.',
    });
    expect(result.ok || result.challenge).toBe(
      'Bearer error="invalid_token", error_description="The access token is invalid.", resource_metadata="https://other.example/.well-known/oauth-protected-resource/api"',
    );
    expect(result.ok || result.reason).toContain('"aud"');
  });

  it('refuses a token of another issuer', async () => {
    const token = await productToken();
    const { verifier } = productVerifier({
      issuer: 'https://evil.example',
      jwksUri: `${ISSUER}/.well-known/jwks.json`,
    });
    const result = await verifier.verify(token);
    expect(result).toMatchObject(invalidToken('The access token is invalid.'));
    expect(result.ok || result.reason).toContain('"iss"');
  });

  it('requires typ at+jwt (RFC 9068 §4), accepting the application/at+jwt spelling (§2.1)', async () => {
    const { jwk, key } = await productSigningKey();
    const { verifier } = productVerifier();
    for (const typ of ['JWT', 'jwt', undefined]) {
      const result = await verifier.verify(await forge(claims(), { kid: jwk.kid, typ }, key));
      expect(result).toMatchObject(invalidToken('The access token is invalid.'));
      expect(result.ok || result.reason).toContain('typ');
    }
    expect((await verifier.verify(await forge(claims(), { kid: jwk.kid, typ: 'application/at+jwt' }, key))).ok).toBe(
      true,
    );
  });

  it('refuses alg none and the HS256 confusion attack, and refuses to be configured with a symmetric algorithm', async () => {
    const { jwk } = await productSigningKey();
    const { verifier } = productVerifier();
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: jwk.kid })}.${b64(claims())}.`;
    expect(await verifier.verify(none)).toEqual(invalidToken('The access token is not a signed JWT.'));
    const noneSigned = `${b64({ alg: 'none', typ: 'at+jwt', kid: jwk.kid })}.${b64(claims())}.AAAA`;
    expect(await verifier.verify(noneSigned)).toMatchObject(invalidToken('The access token is invalid.'));
    // HS256 keyed with the public key's bytes, as a naive verifier would accept.
    const publicBytes = new TextEncoder().encode(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }));
    const hs = await forge(claims(), { alg: 'HS256', kid: jwk.kid }, publicBytes);
    const result = await verifier.verify(hs);
    expect(result).toMatchObject(invalidToken('The access token is invalid.'));
    expect(result.ok || result.reason).toContain('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] })).toThrow(/asymmetric/);
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['none'] })).toThrow(/asymmetric/);
  });

  it('refuses a token whose header names its own key (jwk, jku, x5u, x5c: RFC 8725 §3.10)', async () => {
    const { jwk, key } = await productSigningKey();
    const { verifier } = productVerifier();
    const { d: _d, ...pub } = jwk;
    for (const extra of [
      { jwk: pub },
      { jku: 'https://evil.example/jwks' },
      { x5u: 'https://evil.example/c' },
      { x5c: ['AAAA'] },
    ]) {
      expect(await verifier.verify(await forge(claims(), { kid: jwk.kid, ...extra }, key))).toEqual(
        invalidToken('The access token header names its own key.'),
      );
    }
  });

  it('refuses a token missing an RFC 9068 §2.2 claim', async () => {
    const { jwk, key } = await productSigningKey();
    const { verifier } = productVerifier();
    for (const claim of ['sub', 'client_id', 'jti', 'iat', 'exp', 'scope']) {
      const result = await verifier.verify(await forge(claims({ [claim]: undefined }), { kid: jwk.kid }, key));
      expect(result).toMatchObject(invalidToken('The access token is invalid.'));
    }
  });

  it('refuses an unknown kid without refetching the JWKS inside the cooldown', async () => {
    const { verifier, paths } = productVerifier();
    expect((await verifier.verify(await productToken())).ok).toBe(true);
    expect(paths).toHaveLength(2);
    const stranger = await generateKeyPair('ES256');
    const forged = await forge(claims(), { kid: 'not-in-the-ring' }, stranger.privateKey);
    const result = await verifier.verify(forged);
    expect(result).toEqual({
      ...invalidToken('The access token was not signed by a key of this server.'),
      reason: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(await verifier.verify(forged)).toMatchObject({ ok: false });
    expect(paths).toHaveLength(2); // the JWKS was fetched 30 s ago at most: no reload per forged token
  });

  it('a valid signature under a known kid but a stranger key is refused', async () => {
    const { jwk } = await productSigningKey();
    const stranger = await generateKeyPair('ES256');
    const { verifier } = productVerifier();
    expect(await verifier.verify(await forge(claims(), { kid: jwk.kid }, stranger.privateKey))).toMatchObject(
      invalidToken('The access token is invalid.'),
    );
  });

  it('refuses a token that lacks a required scope with 403 insufficient_scope and the scope in the challenge', async () => {
    const token = await productToken('files');
    const { verifier } = productVerifier();
    expect(await verifier.verifyRequest(resourceRequest(token), { scopes: ['upload_files'] })).toEqual({
      ok: false,
      error: 'insufficient_scope',
      status: 403,
      description: 'This request needs the scope "upload_files".',
      missing: false,
      // RFC 6750 §3: quotes are not allowed inside error_description, so they are dropped from the header.
      challenge: `Bearer error="insufficient_scope", error_description="This request needs the scope upload_files.", scope="upload_files", resource_metadata="${METADATA_URL}"`,
    });
    // all-of by default; any-of on request.
    expect((await verifier.verify(token, { scopes: ['files', 'base'] })).ok).toBe(false);
    expect((await verifier.verify(token, { scopes: ['files', 'base'], scopeMatch: 'any' })).ok).toBe(true);
  });

  it('answers a request with no token with the bare challenge (RFC 6750 §3.1) naming the scope and the metadata', async () => {
    const { verifier, paths } = productVerifier({ realm: 'things' });
    expect(await verifier.verifyRequest(resourceRequest(null), { scopes: ['base'] })).toEqual({
      ok: false,
      error: 'invalid_token',
      status: 401,
      description: 'An access token is required.',
      missing: true,
      challenge: `Bearer realm="things", scope="base", resource_metadata="${METADATA_URL}"`,
    });
    expect(paths).toEqual([]); // nothing fetched for a request that has no token
  });

  it('answers a malformed Authorization header with 400 invalid_request; another scheme counts as no token', async () => {
    const { verifier } = productVerifier();
    const bad = new Request('http://localhost:8787/v1/things', { headers: { Authorization: 'Bearer a b' } });
    expect(await verifier.verifyRequest(bad)).toEqual({
      ok: false,
      error: 'invalid_request',
      status: 400,
      description: 'The Authorization header must be "Bearer <token>".',
      missing: false,
      challenge: `Bearer error="invalid_request", error_description="The Authorization header must be Bearer <token>.", resource_metadata="${METADATA_URL}"`,
    });
    const basic = new Request('http://localhost:8787/v1/things', { headers: { Authorization: 'Basic YTpi' } });
    expect(await verifier.verifyRequest(basic)).toMatchObject({ missing: true, status: 401 });
  });

  it('takes a token from the URL only where allowed, and then only a token whose scope is exactly "files"', async () => {
    const { verifier } = productVerifier();
    const files = await productToken('files');
    const ok = await verifier.verifyRequest(resourceRequest(files, 'query'), {
      allowQueryToken: true,
      scopes: ['files'],
    });
    expect(ok).toMatchObject({ ok: true, fromQuery: true, scopes: ['files'] });
    // Not allowed on this route: the query parameter is not read at all.
    expect(await verifier.verifyRequest(resourceRequest(files, 'query'))).toMatchObject({ ok: false, missing: true });
    for (const scope of ['base', 'files base', 'upload_files']) {
      const token = await productToken(scope);
      const description =
        'Only a token with scope "files" alone may be sent in the URL; send other tokens in the Authorization header.';
      expect(await verifier.verifyRequest(resourceRequest(token, 'query'), { allowQueryToken: true })).toEqual({
        ok: false,
        error: 'invalid_token',
        status: 401,
        description,
        missing: false,
        challenge: `Bearer error="invalid_token", error_description="${description.replace(/"/g, '')}", scope="files", resource_metadata="${METADATA_URL}"`,
      });
      // The same token in the header is fine.
      expect((await verifier.verifyRequest(resourceRequest(token), { allowQueryToken: true })).ok).toBe(true);
    }
  });

  it('refuses a token sent in two places, or a repeated access_token, with 400 invalid_request (RFC 6750 §2)', async () => {
    const { verifier } = productVerifier();
    const files = await productToken('files');
    const description =
      'Send the access token either in the Authorization header or in the access_token parameter, not both.';
    expect(await verifier.verifyRequest(resourceRequest(files, 'both'), { allowQueryToken: true })).toEqual({
      ok: false,
      error: 'invalid_request',
      status: 400,
      description,
      missing: false,
      challenge: `Bearer error="invalid_request", error_description="${description}", resource_metadata="${METADATA_URL}"`,
    });
    const twice = new Request(`http://localhost:8787/v1/img/a.png?access_token=${files}&access_token=${files}`);
    expect(await verifier.verifyRequest(twice, { allowQueryToken: true })).toMatchObject({
      error: 'invalid_request',
      status: 400,
      description: 'The access_token parameter is repeated.',
    });
  });

  it('throws ResourceServerUnavailableError (not a refusal) when the keys cannot be fetched, and recovers', async () => {
    const token = await productToken();
    const { fetch } = productFetch();
    let down = true;
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      fetch: (input, init) => (down ? Promise.resolve(new Response('nope', { status: 502 })) : fetch(input, init)),
    });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(ResourceServerUnavailableError);
    down = false;
    expect((await verifier.verify(token)).ok).toBe(true); // a failed discovery is not cached
    // A metadata document that names another issuer (RFC 8414 §3.3) is refused the same way: here the "evil"
    // issuer's metadata URL serves the product's document (whose jwks_uri works), so only that check refuses it.
    const other = createVerifier({
      issuer: 'https://evil.example',
      audience: AUDIENCE,
      fetch: (input, init) => {
        const url = new Request(input, init).url;
        return fetch(
          url === 'https://evil.example/.well-known/oauth-authorization-server'
            ? `${ISSUER}/.well-known/oauth-authorization-server`
            : url,
          init,
        );
      },
    });
    await expect(other.verify(token)).rejects.toThrow(ResourceServerUnavailableError);
  });

  it('cannot see a revocation: a revoked token stays valid until exp (the documented bound; use introspection or the service binding)', async () => {
    const client = await seedClient();
    const token = (
      await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }))
    ).access_token;
    expect((await revokeRequest(client, { token, token_type_hint: 'access_token' })).status).toBe(200);
    expect(await introspect(client, token)).toEqual({ active: false }); // the server knows at once
    const { verifier } = productVerifier();
    expect((await verifier.verify(token)).ok).toBe(true); // the library does not, until exp
    const { exp } = claimsOf(token);
    expect((await productVerifier({ now: () => (exp + 30) * 1000 }).verifier.verify(token)).ok).toBe(false);
  });
});
