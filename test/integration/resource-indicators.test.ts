/**
 * RFC 8707 resource indicators (issue 13): `resource` at the authorization endpoint and at the token endpoint for
 * every grant, `aud` exactly the resources, invalid_target for every wrong resource, codes and refresh tokens that
 * remember their resources, narrowing that consumes nothing when refused, and /v1 refusing other audiences.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config';
import { insertResourceServerStatement } from '../../src/storage/resource-servers';
import { authorizeFlow, authorizePath, Browser, locationParams, signIn } from '../authz-helpers';
import { basic, call, errorOf, expectTokens, seedClient, seedUser, type TestClient } from '../helpers';

const V1 = 'http://localhost:8787/v1';
const MCP = 'https://mcp.example.com/mcp';
const DOCS = 'https://docs-api.example.com';

/** A token request whose parameters may repeat (`resource`). */
function post(client: TestClient, entries: [string, string][]): Promise<Response> {
  return call('/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
    body: new URLSearchParams(entries).toString(),
  });
}

async function expectTarget(res: Response, description: RegExp) {
  expect(res.status).toBe(400);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const e = await errorOf(res);
  expect(e.error).toBe('invalid_target');
  expect(e.description).toMatch(description);
}

const BAD_TARGETS: [string, RegExp][] = [
  ['https://unknown.example.com/api', /not registered/],
  ['https://mcp.example.com/mcp#frag', /fragment/],
  ['/v1', /absolute URI/],
  ['https://mcp.example.com/mcp?x=1', /query/],
];

beforeAll(async () => {
  await env.DB.batch([
    insertResourceServerStatement(env.DB, { uri: MCP, name: 'Example MCP', scopes: ['mcp:tools', 'mcp:read'] }),
    insertResourceServerStatement(env.DB, { uri: DOCS, name: 'Docs API', scopes: ['docs.read'] }),
  ]);
});

describe('client_credentials with resource', () => {
  it('aud is exactly the resource (string), several are an array; without resource, the default audience', async () => {
    const client = await seedClient();
    const one = await expectTokens(
      await post(client, [
        ['grant_type', 'client_credentials'],
        ['resource', `${MCP}/`],
      ]),
    );
    expect(decodeJwt(one.access_token).aud).toBe(MCP);
    expect(one.scope).toBe('mcp:read mcp:tools'); // the resource's scopes by default
    const two = await expectTokens(
      await post(client, [
        ['grant_type', 'client_credentials'],
        ['resource', MCP],
        ['resource', DOCS],
        ['scope', 'docs.read'],
      ]),
    );
    expect(decodeJwt(two.access_token).aud).toEqual([MCP, DOCS]);
    expect(two.scope).toBe('docs.read');
    const none = await expectTokens(await post(client, [['grant_type', 'client_credentials']]));
    expect(decodeJwt(none.access_token).aud).toBe(env.ACCESS_TOKEN_AUDIENCE);
    expect(none.scope).toBe('base');
    const own = await expectTokens(
      await post(client, [
        ['grant_type', 'client_credentials'],
        ['resource', V1],
      ]),
    );
    expect(decodeJwt(own.access_token).aud).toBe(env.ACCESS_TOKEN_AUDIENCE);
  });

  it('every bad resource is 400 invalid_target', async () => {
    const client = await seedClient();
    for (const [resource, why] of BAD_TARGETS) {
      await expectTarget(
        await post(client, [
          ['grant_type', 'client_credentials'],
          ['resource', resource],
        ]),
        why,
      );
    }
  });

  it('a resource outside the client allowed_resources is invalid_target', async () => {
    const client = await seedClient();
    await env.DB.prepare('UPDATE clients SET allowed_resources = ?2 WHERE id = ?1')
      .bind(client.id, JSON.stringify([DOCS]))
      .run();
    await env.CACHE.delete(`client:${client.id}`);
    const fresh = await seedClient(); // the in-isolate copy of `client` may be warm: use a client never read
    await env.DB.prepare('UPDATE clients SET allowed_resources = ?2 WHERE id = ?1')
      .bind(fresh.id, JSON.stringify([DOCS]))
      .run();
    await expectTarget(
      await post(fresh, [
        ['grant_type', 'client_credentials'],
        ['resource', MCP],
      ]),
      /may not request tokens for the resource/,
    );
    // …and /v1 (no resource) is outside the list too.
    await expectTarget(await post(fresh, [['grant_type', 'client_credentials']]), /may not request/);
    const ok = await expectTokens(
      await post(fresh, [
        ['grant_type', 'client_credentials'],
        ['resource', DOCS],
      ]),
    );
    expect(decodeJwt(ok.access_token).aud).toBe(DOCS);
  });

  it('a scope no requested resource knows is invalid_scope', async () => {
    const client = await seedClient();
    const res = await post(client, [
      ['grant_type', 'client_credentials'],
      ['resource', MCP],
      ['scope', 'base'],
    ]);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      error: 'invalid_scope',
      description: expect.stringMatching(/not known/),
    });
  });

  it('/v1/me refuses a token for another resource (invalid_token), accepts one whose aud includes /v1', async () => {
    const client = await seedClient();
    const other = await expectTokens(
      await post(client, [
        ['grant_type', 'client_credentials'],
        ['resource', MCP],
      ]),
    );
    const res = await call('/v1/me', { headers: { Authorization: `Bearer ${other.access_token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/error="invalid_token".*resource_metadata="/);
    expect(await errorOf(res)).toMatchObject({
      error: 'invalid_token',
      description: expect.stringMatching(/not meant/),
    });
    const both = await expectTokens(
      await post(client, [
        ['grant_type', 'client_credentials'],
        ['resource', V1],
        ['resource', MCP],
        ['scope', 'base'],
      ]),
    );
    expect((await call('/v1/me', { headers: { Authorization: `Bearer ${both.access_token}` } })).status).toBe(200);
  });
});

describe('password grant with resource', () => {
  it('aud bound; bad resources invalid_target; the refresh token remembers the resource', async () => {
    const client = await seedClient({ grantTypes: ['password', 'refresh_token'] });
    const user = await seedUser();
    const cred: [string, string][] = [
      ['grant_type', 'password'],
      ['username', user.email],
      ['password', user.password],
    ];
    for (const [resource, why] of BAD_TARGETS)
      await expectTarget(await post(client, [...cred, ['resource', resource]]), why);
    const t = await expectTokens(
      await post(client, [...cred, ['resource', MCP], ['resource', V1], ['scope', 'base mcp:read']]),
    );
    expect(decodeJwt(t.access_token).aud).toEqual([MCP, env.ACCESS_TOKEN_AUDIENCE]);
    expect(t.scope).toBe('base mcp:read');
    const row = await env.DB.prepare('SELECT resources FROM refresh_tokens WHERE client_id = ?1')
      .bind(client.id)
      .first<{ resources: string }>();
    expect(JSON.parse(row!.resources)).toEqual([MCP, V1]);
  });
});

describe('refresh_token with resource: down-scoping, never a new resource, nothing consumed on refusal', () => {
  async function family() {
    const client = await seedClient({ grantTypes: ['password', 'refresh_token'] });
    const user = await seedUser();
    const t = await expectTokens(
      await post(client, [
        ['grant_type', 'password'],
        ['username', user.email],
        ['password', user.password],
        ['resource', MCP],
        ['resource', V1],
        ['scope', 'base mcp:read'],
      ]),
    );
    return { client, refresh: t.refresh_token! };
  }

  it('a refresh may narrow the audience to one granted resource (and its scopes)', async () => {
    const { client, refresh } = await family();
    const r = await expectTokens(
      await post(client, [
        ['grant_type', 'refresh_token'],
        ['refresh_token', refresh],
        ['resource', MCP],
      ]),
    );
    expect(decodeJwt(r.access_token).aud).toBe(MCP);
    expect(r.scope).toBe('mcp:read');
    // The new refresh token keeps the whole grant: /v1 can be asked for next.
    const again = await expectTokens(
      await post(client, [
        ['grant_type', 'refresh_token'],
        ['refresh_token', r.refresh_token!],
        ['resource', V1],
      ]),
    );
    expect(decodeJwt(again.access_token).aud).toBe(env.ACCESS_TOKEN_AUDIENCE);
    expect(again.scope).toBe('base');
    const all = await expectTokens(
      await post(client, [
        ['grant_type', 'refresh_token'],
        ['refresh_token', again.refresh_token!],
      ]),
    );
    expect(decodeJwt(all.access_token).aud).toEqual([MCP, env.ACCESS_TOKEN_AUDIENCE]);
    expect(all.scope).toBe('base mcp:read');
  });

  it('a new resource (registered, but not granted) or a bad one is invalid_target and consumes nothing', async () => {
    const { client, refresh } = await family();
    await expectTarget(
      await post(client, [
        ['grant_type', 'refresh_token'],
        ['refresh_token', refresh],
        ['resource', DOCS],
      ]),
      /not granted for the requested resource/,
    );
    for (const [resource, why] of BAD_TARGETS) {
      await expectTarget(
        await post(client, [
          ['grant_type', 'refresh_token'],
          ['refresh_token', refresh],
          ['resource', resource],
        ]),
        why,
      );
    }
    // The same refresh token still works: nothing was rotated or revoked by the refusals.
    const ok = await expectTokens(
      await post(client, [
        ['grant_type', 'refresh_token'],
        ['refresh_token', refresh],
      ]),
    );
    expect(decodeJwt(ok.access_token).aud).toEqual([MCP, env.ACCESS_TOKEN_AUDIENCE]);
  });
});

describe('authorization code with resource', () => {
  it('the code remembers the resource; the exchange may narrow, never add; a refused exchange consumes nothing', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const flow = await authorizeFlow(client, user, { resource: MCP, scope: 'mcp:tools' });
    const exchange = (extra: [string, string][]) =>
      post(client, [
        ['grant_type', 'authorization_code'],
        ['code', flow.code],
        ['redirect_uri', 'https://app.example/cb'],
        ['code_verifier', flow.verifier!],
        ...extra,
      ]);
    await expectTarget(await exchange([['resource', V1]]), /not issued for the requested resource/);
    await expectTarget(await exchange([['resource', DOCS]]), /not issued for the requested resource/);
    for (const [resource, why] of BAD_TARGETS) await expectTarget(await exchange([['resource', resource]]), why);
    const t = await expectTokens(await exchange([['resource', MCP]]));
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
    expect(t.scope).toBe('mcp:tools');
  });

  it('without resource at the exchange: every resource of the code', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const flow = await authorizeFlow(client, user, { resource: MCP });
    const t = await expectTokens(
      await post(client, [
        ['grant_type', 'authorization_code'],
        ['code', flow.code],
        ['redirect_uri', 'https://app.example/cb'],
        ['code_verifier', flow.verifier!],
      ]),
    );
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
    expect(t.scope).toBe('mcp:read mcp:tools');
  });

  it('the consent page names the resource; an unknown resource is an invalid_target redirect after sign-in', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const b = new Browser();
    const path = (resource: string) =>
      authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: 'https://app.example/cb',
        state: 's1',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource,
      });
    const signedIn = await signIn(b, user.email, user.password, path(MCP));
    const consent = await b.get(signedIn.headers.get('Location')!);
    expect(consent.status).toBe(200);
    const html = await consent.text();
    expect(html).toContain('Example MCP');
    expect(html).toContain(`<code>${MCP}</code>`);
    expect(html).toContain(`name="resource" value="${MCP}"`);
    for (const [resource, why] of BAD_TARGETS) {
      const res = await b.get(path(resource));
      expect(res.status).toBe(302);
      const q = locationParams(res);
      expect(q.get('error')).toBe('invalid_target');
      expect(q.get('error_description')).toMatch(why);
      expect(q.get('state')).toBe('s1');
      expect(q.get('iss')).toBe(getConfig(env).issuer);
    }
  });

  it('signed out, an invalid_target request goes to sign-in first (RFC 9700 §4.11.2), never to the client', async () => {
    const client = await seedClient();
    const res = await new Browser().get(
      authorizePath({ response_type: 'code', client_id: client.id, resource: 'https://unknown.example.com' }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toMatch(/^\/login\?/);
  });
});
