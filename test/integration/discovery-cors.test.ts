/**
 * Issue 13: RFC 9728 protected-resource metadata for /v1, `resource_metadata` in challenges, the RFC 8414 metadata
 * additions (issuer = where it is served, §3.3), and CORS on exactly the endpoints browser-based agents call.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectTokens, seedClient, tokenRequest } from '../helpers';

const PRM = 'http://localhost:8787/.well-known/oauth-protected-resource/v1';

describe('RFC 9728 metadata for /v1', () => {
  for (const path of ['/.well-known/oauth-protected-resource/v1', '/.well-known/oauth-protected-resource']) {
    it(`GET ${path}`, async () => {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      const doc = (await res.json()) as Record<string, unknown>;
      expect(doc).toEqual({
        resource: env.ACCESS_TOKEN_AUDIENCE,
        authorization_servers: [env.ISSUER],
        scopes_supported: ['base', 'files', 'upload_files'],
        bearer_methods_supported: ['header', 'query'],
        resource_name: 'API',
        resource_documentation: `${env.ISSUER}/`,
      });
      expect(JSON.stringify(doc)).not.toContain('offline_access');
    });
  }

  it('another suffix is 404', async () => {
    expect((await call('/.well-known/oauth-protected-resource/v2')).status).toBe(404);
  });
});

describe('challenges carry resource_metadata (RFC 9728 §5.1)', () => {
  it('no token: 401 with the bare challenge and resource_metadata; missing scope: 403 with every scope needed', async () => {
    const none = await call('/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe(`Bearer realm="api", scope="base", resource_metadata="${PRM}"`);
    const img = await call('/v1/img/x.png');
    expect(img.status).toBe(401);
    expect(img.headers.get('WWW-Authenticate')).toContain(`resource_metadata="${PRM}"`);
    const client = await seedClient();
    const t = await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'files' }, { client }));
    const res = await call('/v1/me', { headers: { Authorization: `Bearer ${t.access_token}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toMatch(
      /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="base", resource_metadata="[^"]+"$/,
    );
    expect(((await res.json()) as { error: string }).error).toBe('insufficient_scope');
  });

  it('the token endpoint under /v1 keeps its own (Basic) challenge', async () => {
    const res = await call('/v1/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Basic bm9wZTpub3Bl' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate') ?? '').not.toContain('resource_metadata');
  });
});

describe('RFC 8414 metadata', () => {
  it('is served at issuer + /.well-known/oauth-authorization-server, with the members agents check', async () => {
    const first = (await (await call('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
    const url = new URL(`${first.issuer as string}/.well-known/oauth-authorization-server`);
    expect(url.origin).toBe('http://localhost:8787');
    const res = await call(url.pathname);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(env.ISSUER);
    expect(doc).toMatchObject({
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      revocation_endpoint_auth_methods_supported: expect.any(Array),
    });
    expect(JSON.stringify(doc)).not.toMatch(/resource_indicators/);
    // The issuer has no path, so there is no path-inserted form (RFC 8414 §3.1).
    expect((await call('/.well-known/oauth-authorization-server/tenant')).status).toBe(404);
  });
});

describe('CORS', () => {
  const MCP_HEADERS = 'authorization, content-type, mcp-protocol-version';
  const CORS_PATHS = [
    ['/.well-known/oauth-authorization-server', 'GET'],
    ['/.well-known/jwks.json', 'GET'],
    ['/.well-known/oauth-protected-resource/v1', 'GET'],
    ['/oauth2/token', 'POST'],
    ['/oauth2/register', 'POST'],
    ['/oauth2/revoke', 'POST'],
  ] as const;
  for (const [path, method] of CORS_PATHS) {
    it(`${path}: preflight answered, the actual response has the header, never credentials`, async () => {
      const pre = await call(path, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://agent.example',
          'Access-Control-Request-Method': method,
          'Access-Control-Request-Headers': MCP_HEADERS,
        },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(pre.headers.get('Access-Control-Allow-Methods')).toContain(method);
      expect(pre.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toBe(
        'authorization,content-type,mcp-protocol-version',
      );
      expect(pre.headers.has('Access-Control-Allow-Credentials')).toBe(false);
      const actual = await call(path, {
        method,
        headers: { Origin: 'https://agent.example', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: method === 'POST' ? '' : undefined,
      });
      expect(actual.headers.get('Access-Control-Allow-Origin')).toBe('*');
      // The POSTs here are errors (an empty body): a browser client must read their challenge and back-off too.
      expect(actual.headers.get('Access-Control-Expose-Headers')).toBe('WWW-Authenticate,Retry-After');
      expect(actual.headers.has('Access-Control-Allow-Credentials')).toBe(false);
    });
  }

  it('pages, the admin API, introspection and /v1 have none', async () => {
    for (const path of ['/login', '/oauth2/authorize', '/apps', '/admin/clients', '/oauth2/introspect', '/v1/me']) {
      const pre = await call(path, {
        method: 'OPTIONS',
        headers: { Origin: 'https://agent.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(pre.headers.has('Access-Control-Allow-Origin'), path).toBe(false);
      const get = await call(path, { headers: { Origin: 'https://agent.example' } });
      expect(get.headers.has('Access-Control-Allow-Origin'), path).toBe(false);
    }
  });
});
