/**
 * Forged and malformed access tokens against a protected route (/v1/me), black box over HTTP.
 * Every one must get 401 with the RFC 6750 §3.1 `invalid_token` error, in the body and in the
 * `WWW-Authenticate: Bearer` challenge. A correctly signed token with the same claims gets 200
 * (the control), so each case fails for the reason it names and not for another.
 */
import { env } from 'cloudflare:workers';
import { base64url, type CryptoKey, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, seedClient } from '../helpers';

const enc = new TextEncoder();
const b64json = (value: unknown) => base64url.encode(enc.encode(JSON.stringify(value)));

interface RingJwk extends JWK {
  kid: string;
  alg: string;
}
let signingJwk: RingJwk;
let otherJwk: RingJwk;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let clientId: string;

beforeAll(async () => {
  const keys = (JSON.parse(env.SIGNING_KEYS) as { keys: RingJwk[] }).keys;
  [signingJwk, otherJwk] = keys;
  signingKey = (await importJWK(signingJwk, 'ES256')) as CryptoKey;
  otherKey = (await importJWK(otherJwk, 'ES256')) as CryptoKey;
  clientId = (await seedClient()).id;
});

const now = () => Math.floor(Date.now() / 1000);

/** The claims our server issues for a client_credentials token (RFC 9068 §2.2). */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: env.ISSUER,
    sub: clientId,
    aud: env.ACCESS_TOKEN_AUDIENCE,
    client_id: clientId,
    scope: 'base',
    jti: crypto.randomUUID(),
    iat: now(),
    exp: now() + 3600,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/**
 * Signs `payload` under an arbitrary protected header with WebCrypto directly (JWS compact serialisation,
 * RFC 7515 §7.1): jose refuses to build most of these forgeries, which is the point of them.
 * A Uint8Array key means HMAC-SHA256 with those bytes (the HS256 confusion attack).
 */
async function sign(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  key: CryptoKey | Uint8Array = signingKey,
): Promise<string> {
  const fullHeader: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', kid: signingJwk.kid, ...header };
  for (const [k, v] of Object.entries(fullHeader)) if (v === undefined) delete fullHeader[k];
  const input = `${b64json(fullHeader)}.${b64json(payload)}`;
  let signature: ArrayBuffer;
  if (key instanceof Uint8Array) {
    const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    signature = await crypto.subtle.sign('HMAC', hmac, enc.encode(input));
  } else {
    signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, enc.encode(input));
  }
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

const me = (token: string) => call('/v1/me', { headers: { Authorization: `Bearer ${token}` } });

async function expectInvalidToken(token: string) {
  const res = await me(token);
  const body = (await res.json()) as { error: string; error_description: string };
  expect({ status: res.status, error: body.error }).toEqual({ status: 401, error: 'invalid_token' });
  expect(typeof body.error_description).toBe('string');
  expect(res.headers.get('WWW-Authenticate')).toMatch(
    /^Bearer realm="api", error="invalid_token", error_description="[^"\\]*", resource_metadata="[^"]+"$/,
  );
  expect(res.headers.get('Cache-Control')).toBe('no-store');
}

describe('access-token forgeries on /v1/me', () => {
  it('control: a correctly signed token with the issued claims is accepted', async () => {
    const res = await me(await sign(claims()));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { client_id: string }).client_id).toBe(clientId);
  });

  it('alg "none" (unsigned), with and without a signature part', async () => {
    const header = b64json({ alg: 'none', typ: 'at+jwt', kid: signingJwk.kid });
    await expectInvalidToken(`${header}.${b64json(claims())}.`);
    await expectInvalidToken(`${header}.${b64json(claims())}.AAAA`);
  });

  it('HS256 with the public key as the HMAC secret (algorithm confusion)', async () => {
    const { d: _d, ...publicJwk } = signingJwk;
    await expectInvalidToken(await sign(claims(), { alg: 'HS256' }, enc.encode(JSON.stringify(publicJwk))));
    await expectInvalidToken(await sign(claims(), { alg: 'HS256' }, enc.encode(publicJwk.x!)));
  });

  it('one flipped bit in the payload', async () => {
    const [h, p, s] = (await sign(claims())).split('.');
    const bytes = base64url.decode(p);
    bytes[bytes.length - 3] ^= 0x01;
    await expectInvalidToken(`${h}.${base64url.encode(bytes)}.${s}`);
  });

  it("signed by another key under the ring key's kid, and by the ring's other key under the wrong kid", async () => {
    const attacker = await generateKeyPair('ES256');
    await expectInvalidToken(await sign(claims(), {}, attacker.privateKey));
    await expectInvalidToken(await sign(claims(), { kid: signingJwk.kid }, otherKey));
  });

  it('unknown, huge, path-like and prototype-named kid', async () => {
    for (const kid of [
      'unknown-kid',
      'k'.repeat(3000),
      '../../../../etc/passwd',
      `${signingJwk.kid}/../${signingJwk.kid}`,
      '__proto__',
      'constructor',
      '',
      42,
      null,
    ]) {
      await expectInvalidToken(await sign(claims(), { kid }));
    }
    await expectInvalidToken(await sign(claims(), { kid: undefined }));
  });

  it('jku, x5u, jwk and x5c headers (the token naming its own key) are refused even when the signature is good', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const { exportJWK } = await import('jose');
    await expectInvalidToken(await sign(claims(), { jku: 'https://evil.example/jwks.json' }));
    await expectInvalidToken(await sign(claims(), { x5u: 'https://evil.example/cert.pem' }));
    await expectInvalidToken(await sign(claims(), { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey));
    await expectInvalidToken(await sign(claims(), { jwk: await exportJWK(attacker.publicKey) }));
    await expectInvalidToken(await sign(claims(), { x5c: ['MIIB'] }));
  });

  it('crit headers it does not understand', async () => {
    await expectInvalidToken(await sign(claims(), { crit: ['x-bench'], 'x-bench': true }));
    await expectInvalidToken(await sign(claims(), { crit: ['exp'] }));
    await expectInvalidToken(await sign(claims(), { crit: [] }));
  });

  it('missing exp, jti, client_id, iss, aud, sub, iat or scope', async () => {
    for (const claim of ['exp', 'jti', 'client_id', 'iss', 'aud', 'sub', 'iat', 'scope']) {
      await expectInvalidToken(await sign(claims({ [claim]: undefined })));
    }
  });

  it('claims of the wrong type', async () => {
    await expectInvalidToken(await sign(claims({ client_id: 42 })));
    await expectInvalidToken(await sign(claims({ scope: ['base'] })));
    await expectInvalidToken(await sign(claims({ exp: String(now() + 3600) })));
    await expectInvalidToken(await sign(claims({ jti: { id: 1 } })));
  });

  it('expired, and nbf / iat in the future beyond the 30 s tolerance', async () => {
    await expectInvalidToken(await sign(claims({ iat: now() - 7200, exp: now() - 120 })));
    await expectInvalidToken(await sign(claims({ nbf: now() + 120 })));
    await expectInvalidToken(await sign(claims({ iat: now() + 120 })));
    // Within tolerance (clock skew between edge locations) is accepted:
    expect((await me(await sign(claims({ nbf: now() + 5, iat: now() + 5 })))).status).toBe(200);
  });

  it('wrong iss or aud', async () => {
    await expectInvalidToken(await sign(claims({ iss: 'https://evil.example' })));
    await expectInvalidToken(await sign(claims({ iss: `${env.ISSUER}/` })));
    await expectInvalidToken(await sign(claims({ aud: 'https://other-api.example' })));
    await expectInvalidToken(await sign(claims({ aud: ['https://other-api.example'] })));
  });

  it('typ other than at+jwt (an ID token or a generic JWT replayed as an access token)', async () => {
    await expectInvalidToken(await sign(claims(), { typ: 'JWT' }));
    await expectInvalidToken(await sign(claims(), { typ: undefined }));
    await expectInvalidToken(await sign(claims(), { typ: 'dpop+jwt' }));
  });

  it('a 5-part JWE', async () => {
    const header = b64json({ alg: 'dir', enc: 'A256GCM', kid: signingJwk.kid, typ: 'at+jwt' });
    await expectInvalidToken(
      `${header}..${base64url.encode(crypto.getRandomValues(new Uint8Array(12)))}.${b64json(claims())}.${base64url.encode(crypto.getRandomValues(new Uint8Array(16)))}`,
    );
  });

  it('a token over the length limit, even if validly signed', async () => {
    await expectInvalidToken(await sign(claims({ padding: 'x'.repeat(5000) })));
    await expectInvalidToken('a'.repeat(100_000));
  });

  it('a token of the wrong scope is 403 insufficient_scope; no token is the bare challenge; a malformed header is 400', async () => {
    const files = await me(await sign(claims({ scope: 'files' })));
    expect(files.status).toBe(403);
    expect(((await files.json()) as { error: string }).error).toBe('insufficient_scope');
    expect(files.headers.get('WWW-Authenticate')).toMatch(
      /^Bearer realm="api", error="insufficient_scope", error_description="[^"]*", scope="base", resource_metadata="[^"]+"$/,
    );

    const none = await call('/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="api", scope="base", resource_metadata="http://localhost:8787/.well-known/oauth-protected-resource/v1"',
    ); // RFC 9728 §5.1

    const malformed = await call('/v1/me', { headers: { Authorization: 'Bearer two tokens' } });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toBe('invalid_request');
    expect(malformed.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="api", error="invalid_request"/);
  });

  it("a token signed for the right claims by jose's JWT builder is equivalent to the control (sanity of the helper)", async () => {
    const t = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signingJwk.kid })
      .sign(signingKey);
    expect((await me(t)).status).toBe(200);
  });
});
