/**
 * private_key_jwt client authentication (RFC 7523 §2.2, issue 13): every allowed algorithm at the token, revocation
 * and introspection endpoints; each claim rule; single use of the jti (also under concurrency); the method rules
 * (a secret for a key client, an assertion for a secret client); registration of keys; jwks_uri fetched through
 * an intercepted outbound fetch, with rotation.
 */
import { env } from 'cloudflare:workers';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/oauth/client-assertion';
import { clearRemoteKeySets } from '../../src/services/client-key-sets';
import { basic, call, errorOf, expectTokens, ORIGIN, seedClient } from '../helpers';

const ADMIN = { Authorization: 'Bearer test-admin-token-0123456789abcdef0123456789' };
const TOKEN_URL = `${ORIGIN}/oauth2/token`;
type Alg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

async function keyPair(alg: Alg, kid = `k-${alg}-${crypto.randomUUID().slice(0, 6)}`) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, pub, privateKey, privateJwk: await exportJWK(privateKey) };
}
type Pair = Awaited<ReturnType<typeof keyPair>>;

async function keyClient(pair: Pair, extra: Parameters<typeof seedClient>[0] = {}) {
  return seedClient({ authMethod: 'private_key_jwt', jwks: { keys: [pair.pub] }, ...extra });
}

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string | null;
  exp?: number | null;
  iat?: number;
  nbf?: number;
}
async function assertion(pair: Pair, clientId: string, c: Claims = {}, header: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: c.iss ?? clientId,
    sub: c.sub ?? clientId,
    aud: c.aud ?? ORIGIN,
    iat: c.iat ?? now,
    ...(c.nbf !== undefined ? { nbf: c.nbf } : {}),
    ...(c.exp === null ? {} : { exp: c.exp ?? now + 60 }),
    ...(c.jti === null ? {} : { jti: c.jti ?? crypto.randomUUID() }),
  };
  return new SignJWT(payload).setProtectedHeader({ alg: pair.alg, kid: pair.kid, ...header }).sign(pair.privateKey);
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return call(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
const withAssertion = (a: string) => ({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: a });
const cc = (a: string, extra: Record<string, string> = {}) =>
  post('/oauth2/token', { grant_type: 'client_credentials', ...withAssertion(a), ...extra });

async function expectRefused(res: Response, description: RegExp) {
  const e = await errorOf(res);
  expect(e.status).toBe(400);
  expect(e.error).toBe('invalid_client');
  expect(e.description).toMatch(description);
  expect(res.headers.get('WWW-Authenticate')).toBeNull();
  expect(res.headers.get('Cache-Control')).toBe('no-store');
}
const GENERIC = /^Client authentication failed: unknown client, or the client_assertion does not verify/;

afterEach(() => {
  vi.restoreAllMocks();
  clearRemoteKeySets();
});

describe('private_key_jwt: success with every allowed algorithm', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as const) {
    it(`${alg} at the token, introspection and revocation endpoints`, async () => {
      const pair = await keyPair(alg);
      const client = await keyClient(pair);
      expect(client.secret).toBe('');
      const tokens = await expectTokens(await cc(await assertion(pair, client.id), { scope: 'base' }));
      expect(tokens.token_type).toBe('Bearer');

      const intro = await post('/oauth2/introspect', {
        token: tokens.access_token,
        ...withAssertion(await assertion(pair, client.id)),
      });
      expect(intro.status).toBe(200);
      expect(intro.headers.get('Cache-Control')).toBe('no-store');
      expect(await intro.json()).toMatchObject({ active: true, client_id: client.id });

      const rev = await post('/oauth2/revoke', {
        token: tokens.access_token,
        ...withAssertion(await assertion(pair, client.id, { aud: TOKEN_URL })),
      });
      expect(rev.status).toBe(200);
      const after = await post('/oauth2/introspect', {
        token: tokens.access_token,
        ...withAssertion(await assertion(pair, client.id)),
      });
      expect(await after.json()).toEqual({ active: false });
    });
  }

  it('a client_id in the body naming the same client is accepted; another one is refused', async () => {
    const pair = await keyPair('ES256');
    const client = await keyClient(pair);
    await expectTokens(await cc(await assertion(pair, client.id), { client_id: client.id }));
    const res = await cc(await assertion(pair, client.id), { client_id: 'someone-else' });
    await expectRefused(res, /client_id in the body differs/);
  });
});

describe('private_key_jwt: the jti is single use', () => {
  it('a replayed assertion is refused', async () => {
    const pair = await keyPair('ES256');
    const client = await keyClient(pair);
    const a = await assertion(pair, client.id);
    await expectTokens(await cc(a));
    await expectRefused(await cc(a), /already used; sign a new one with a fresh "jti"/);
    // A new assertion with a new jti still works.
    await expectTokens(await cc(await assertion(pair, client.id)));
  });

  it('two concurrent uses of one assertion: exactly one wins', async () => {
    const pair = await keyPair('EdDSA');
    const client = await keyClient(pair);
    const a = await assertion(pair, client.id);
    const results = await Promise.all(Array.from({ length: 6 }, () => cc(a)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM client_assertion_jtis').first<{ n: number }>();
    expect(row!.n).toBeGreaterThan(0);
  });
});

describe('private_key_jwt: each claim rule', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, Claims, RegExp][] = [
    ['expired', { iat: now() - 200, exp: now() - 100 }, /has expired/],
    ['not yet valid (nbf)', { nbf: now() + 600, exp: now() + 660, iat: now() }, /not valid yet/],
    ['iat in the future', { iat: now() + 600, exp: now() + 660 }, /not valid yet/],
    ['too long-lived', { exp: now() + 3600 }, /lives too long/],
    ['wrong aud', { aud: 'https://other-as.example' }, /"aud" must be this server's issuer/],
    ['the introspection endpoint as aud', { aud: `${ORIGIN}/oauth2/introspect` }, /"aud" must be/],
    ['several audiences', { aud: [ORIGIN, 'https://other-as.example'] }, /"aud" must be/],
    ['sub is not the client', { sub: 'someone-else' }, /"iss" and "sub" must both be the client_id/],
    ['no exp', { exp: null }, /must carry "exp"/],
    ['no jti', { jti: null }, /unique "jti"/],
  ];
  for (const [name, claims, description] of cases) {
    it(`${name} is refused`, async () => {
      const pair = await keyPair('ES256');
      const client = await keyClient(pair);
      await expectRefused(await cc(await assertion(pair, client.id, claims)), description);
    });
  }

  it('iss naming another client: the generic answer (the other client has other keys)', async () => {
    const pair = await keyPair('ES256');
    const other = await keyClient(await keyPair('ES256'));
    await expectRefused(await cc(await assertion(pair, other.id)), GENERIC);
  });
});

describe('private_key_jwt: signatures and algorithms', () => {
  it('alg none is refused', async () => {
    const client = await keyClient(await keyPair('ES256'));
    const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none' })}.${enc({ iss: client.id, sub: client.id, aud: ORIGIN, exp: now + 60, jti: 'x' })}.`;
    await expectRefused(await cc(unsigned), /must be signed with one of ES256, EdDSA, RS256, PS256/);
  });

  it('HS256 signed with some string is refused', async () => {
    const client = await keyClient(await keyPair('ES256'));
    const now = Math.floor(Date.now() / 1000);
    const hs = await new SignJWT({ iss: client.id, sub: client.id, aud: ORIGIN, exp: now + 60, jti: 'y' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('some shared string of enough length'));
    await expectRefused(await cc(hs), /must be signed with one of/);
  });

  it("a key not in the client's set is refused with the generic answer", async () => {
    const registered = await keyPair('ES256', 'same-kid');
    const client = await keyClient(registered);
    const stranger = await keyPair('ES256', 'same-kid');
    await expectRefused(await cc(await assertion(stranger, client.id)), GENERIC);
    await expectRefused(await cc(await assertion(await keyPair('ES256'), client.id)), GENERIC);
  });

  it('an unknown client gets the same generic answer', async () => {
    await expectRefused(await cc(await assertion(await keyPair('ES256'), 'cl_does_not_exist')), GENERIC);
  });

  it('garbage is not a JWT; a wrong assertion type is invalid_request', async () => {
    await expectRefused(await cc('not.a.jwt'), /not a signed JWT/);
    const res = await post('/oauth2/token', {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      client_assertion: 'x',
    });
    const e = await errorOf(res);
    expect([e.status, e.error]).toEqual([400, 'invalid_request']);
  });
});

describe('private_key_jwt: one method per client', () => {
  it('a secret sent by a private_key_jwt client is refused like a wrong secret', async () => {
    const client = await keyClient(await keyPair('ES256'));
    const res = await post(
      '/oauth2/token',
      { grant_type: 'client_credentials' },
      {
        Authorization: basic(client.id, 'guessed-secret'),
      },
    );
    const e = await errorOf(res);
    expect([e.status, e.error]).toEqual([401, 'invalid_client']);
    expect(e.description).toBe('Client authentication failed: unknown client or wrong secret.');
    const alone = await post('/oauth2/token', { grant_type: 'client_credentials', client_id: client.id });
    expect((await errorOf(alone)).error).toBe('invalid_client');
  });

  it('an assertion sent for a secret client is refused with the generic answer', async () => {
    const pair = await keyPair('ES256');
    const secretClient = await seedClient();
    await expectRefused(await cc(await assertion(pair, secretClient.id)), GENERIC);
  });

  it('an assertion and Basic together are invalid_request', async () => {
    const pair = await keyPair('ES256');
    const client = await keyClient(pair);
    const res = await post(
      '/oauth2/token',
      { grant_type: 'client_credentials', ...withAssertion(await assertion(pair, client.id)) },
      { Authorization: basic(client.id, 'x') },
    );
    const e = await errorOf(res);
    expect([e.status, e.error]).toEqual([400, 'invalid_request']);
  });
});

describe('private_key_jwt: registration of keys', () => {
  const create = (body: Record<string, unknown>) =>
    call('/admin/clients', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Key client', grant_types: ['client_credentials'], ...body }),
    });

  it('the admin API registers a jwks client without a secret, and it authenticates', async () => {
    const pair = await keyPair('PS256');
    const res = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pair.pub] } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(body.jwks).toEqual({ keys: [pair.pub] });
    expect(body).not.toHaveProperty('client_secret');
    await expectTokens(await cc(await assertion(pair, body.client_id as string)));
    const rotate = await call(`/admin/clients/${body.client_id}/rotate-secret`, { method: 'POST', headers: ADMIN });
    expect((await errorOf(rotate)).description).toMatch(/private_key_jwt and has no secret/);
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a private key', { jwks: 'PRIVATE' }, /public keys only/],
    ['both jwks and jwks_uri', { jwks: 'PUBLIC', jwks_uri: 'https://keys.example/jwks.json' }, /not both/],
    ['neither', {}, /needs "jwks" or "jwks_uri"/],
    ['an http jwks_uri', { jwks_uri: 'http://keys.example/jwks.json' }, /must be an https URL/],
    ['a symmetric key', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /public keys only/],
  ];
  for (const [name, fields, description] of refused) {
    it(`${name} is refused`, async () => {
      const pair = await keyPair('ES256');
      const sub = (v: unknown) =>
        v === 'PRIVATE' ? { keys: [{ ...pair.privateJwk, kid: pair.kid }] } : v === 'PUBLIC' ? { keys: [pair.pub] } : v;
      const body = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, sub(v)]));
      const e = await errorOf(await create({ token_endpoint_auth_method: 'private_key_jwt', ...body }));
      expect([e.status, e.error]).toEqual([400, 'invalid_client_metadata']);
      expect(e.description).toMatch(description);
    });
  }

  it('RFC 7591 registration with a jwks_uri: no secret, the method read back by RFC 7592', async () => {
    const iatRes = await call('/admin/initial-access-tokens', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const { initial_access_token } = (await iatRes.json()) as { initial_access_token: string };
    const res = await call('/oauth2/register', {
      method: 'POST',
      headers: { Authorization: `Bearer ${initial_access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Agent',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://keys.partner.example.com/agent.json',
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://keys.partner.example.com/agent.json',
    });
    expect(body).not.toHaveProperty('client_secret');
    const read = await call(`/oauth2/register/${body.client_id}`, {
      headers: { Authorization: `Bearer ${body.registration_access_token}` },
    });
    expect(await read.json()).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt' });
  });

  it('keys on a secret client are refused', async () => {
    const pair = await keyPair('ES256');
    const e = await errorOf(await create({ jwks: { keys: [pair.pub] } }));
    expect(e.description).toMatch(/for token_endpoint_auth_method "private_key_jwt" only/);
  });
});

describe('private_key_jwt: jwks_uri (outbound fetch intercepted)', () => {
  const JWKS_URI = 'https://keys.partner.example.com/jwks.json';

  function serveKeys(sets: JWK[][]) {
    const served: string[] = [];
    const original = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== JWKS_URI) return original(input, init);
      served.push(url);
      const keys = sets[Math.min(served.length, sets.length) - 1];
      return new Response(JSON.stringify({ keys }), {
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=600' },
      });
    });
    return served;
  }

  it('keys are fetched once and cached; a rotated key (kid miss) reloads the set at once, then not again', async () => {
    const first = await keyPair('ES256', 'k1');
    const second = await keyPair('RS256', 'k2');
    const client = await seedClient({ authMethod: 'private_key_jwt', jwksUri: JWKS_URI });
    const served = serveKeys([[first.pub], [first.pub, second.pub]]);

    await expectTokens(await cc(await assertion(first, client.id)));
    await expectTokens(await cc(await assertion(first, client.id)));
    expect(served.length).toBe(1);

    // The client rotated to k2: unknown kid → one reload within the minute.
    await expectTokens(await cc(await assertion(second, client.id)));
    expect(served.length).toBe(2);
    // Another unknown kid at once: no second reload (at most one per 60 s).
    await expectRefused(await cc(await assertion(await keyPair('ES256', 'k3'), client.id)), GENERIC);
    expect(served.length).toBe(2);
  });

  it('a jwks_uri that fails is said as such', async () => {
    const client = await seedClient({ authMethod: 'private_key_jwt', jwksUri: JWKS_URI });
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('nope', { status: 500 }));
    await expectRefused(
      await cc(await assertion(await keyPair('ES256'), client.id)),
      /jwks_uri could not be used \(.*answered HTTP 500 instead of 200/,
    );
  });
});

describe('private_key_jwt: metadata', () => {
  it('the AS metadata lists the method and its algorithms at all three endpoints', async () => {
    const meta = (await (await call('/.well-known/oauth-authorization-server')).json()) as Record<string, string[]>;
    for (const ep of ['token', 'revocation', 'introspection']) {
      expect(meta[`${ep}_endpoint_auth_methods_supported`]).toContain('private_key_jwt');
      expect(meta[`${ep}_endpoint_auth_signing_alg_values_supported`]).toEqual(['ES256', 'EdDSA', 'RS256', 'PS256']);
    }
  });
});
