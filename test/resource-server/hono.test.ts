/**
 * The Hono middleware and the RFC 9728 metadata route of @edge-oauth/resource-server, as a resource server would
 * mount them, driven by real product tokens: status, headers and body of every answer, the typed variables the
 * route reads, and a client that finds the authorization server from nothing but a 401 (RFC 9728 §5).
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  type AccessTokenVariables,
  mountProtectedResourceMetadata,
  requireAccessToken,
} from '../../packages/resource-server/src/hono';
import {
  createVerifier,
  protectedResourceMetadata,
  refusalResponse,
  resourceMetadataUrl,
  serveProtectedResourceMetadata,
} from '../../packages/resource-server/src/index';
import { basic, call, ORIGIN, seedClient } from '../helpers';
import { AUDIENCE, ISSUER, METADATA_URL, productFetch, productToken, resourceRequest } from './rs-helpers';

const metadata = protectedResourceMetadata({
  resource: AUDIENCE,
  authorizationServers: [ISSUER],
  scopesSupported: ['base', 'files', 'upload_files'],
  bearerMethodsSupported: ['header', 'query'],
  resourceName: 'Things API',
});

function resourceApp(fetchImpl = productFetch().fetch) {
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: fetchImpl });
  const app = new Hono<{ Variables: AccessTokenVariables }>();
  mountProtectedResourceMetadata(app, metadata);
  app.get('/v1/things', requireAccessToken(verifier, { scopes: ['base'] }), (c) =>
    c.json({
      sub: c.get('accessToken').sub,
      client: c.get('accessToken').client_id,
      scopes: c.get('accessTokenScopes'),
    }),
  );
  app.get(
    '/v1/img/:name',
    requireAccessToken(verifier, { scopes: ['files', 'base'], scopeMatch: 'any', allowQueryToken: true }),
    (c) => c.text(`image ${c.req.param('name')} for ${c.get('accessToken').sub}`),
  );
  return app;
}

async function expectRefusal(res: Response, status: number, error: string, description: string, challenge: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/json;charset=UTF-8');
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  expect(res.headers.get('WWW-Authenticate')).toBe(challenge);
  expect(await res.json()).toEqual({ error, error_description: description });
}

describe('requireAccessToken (Hono)', () => {
  it('lets a valid token through with its claims as typed variables', async () => {
    const token = await productToken('base');
    const res = await resourceApp().request(resourceRequest(token));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sub: string; client: string; scopes: string[] };
    expect(body.scopes).toEqual(['base']);
    expect(body.sub).toBe(body.client); // client_credentials: sub is the client
  });

  it('answers no token with 401 and the bare challenge carrying scope and resource_metadata', async () => {
    await expectRefusal(
      await resourceApp().request(resourceRequest(null)),
      401,
      'invalid_token',
      'An access token is required.',
      `Bearer scope="base", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('answers a bad token with 401 invalid_token', async () => {
    await expectRefusal(
      await resourceApp().request(resourceRequest('a.b.c')),
      401,
      'invalid_token',
      'The access token header is malformed.',
      `Bearer error="invalid_token", error_description="The access token header is malformed.", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('answers a token without the scope with 403 insufficient_scope', async () => {
    await expectRefusal(
      await resourceApp().request(resourceRequest(await productToken('files'))),
      403,
      'insufficient_scope',
      'This request needs the scope "base".',
      `Bearer error="insufficient_scope", error_description="This request needs the scope base.", scope="base", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('takes a files-only token from the URL on a route that allows it, refuses a base token there, and refuses two places', async () => {
    const app = resourceApp();
    const files = await productToken('files');
    const ok = await app.request(resourceRequest(files, 'query', '/v1/img/cat.png'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^image cat\.png for /);
    const desc =
      'Only a token with scope "files" alone may be sent in the URL; send other tokens in the Authorization header.';
    await expectRefusal(
      await app.request(resourceRequest(await productToken('base'), 'query', '/v1/img/cat.png')),
      401,
      'invalid_token',
      desc,
      `Bearer error="invalid_token", error_description="${desc.replace(/"/g, '')}", scope="files", resource_metadata="${METADATA_URL}"`,
    );
    const both = 'Send the access token either in the Authorization header or in the access_token parameter, not both.';
    await expectRefusal(
      await app.request(resourceRequest(files, 'both', '/v1/img/cat.png')),
      400,
      'invalid_request',
      both,
      `Bearer error="invalid_request", error_description="${both}", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('answers 503 with Retry-After, not 401 or 500, when the authorization server keys cannot be fetched', async () => {
    const app = resourceApp(async () => new Response('down', { status: 503 }));
    const res = await app.request(resourceRequest(await productToken('base')));
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token could not be checked; try again shortly.',
    });
  });
});

describe('RFC 9728 protected resource metadata', () => {
  it('is served at the path-suffixed well-known URL (§3.1) with the §2 members', async () => {
    const app = resourceApp();
    const res = await app.request('http://localhost:8787/.well-known/oauth-protected-resource/v1');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({
      resource: 'http://localhost:8787/v1',
      authorization_servers: ['http://localhost:8787'],
      bearer_methods_supported: ['header', 'query'],
      scopes_supported: ['base', 'files', 'upload_files'],
      resource_name: 'Things API',
    });
    expect((await app.request('http://localhost:8787/.well-known/oauth-protected-resource')).status).toBe(404);
  });

  it('builds the metadata URL from the resource identifier and refuses identifiers a client cannot use', () => {
    expect(resourceMetadataUrl('https://api.example.com')).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource',
    );
    expect(resourceMetadataUrl('https://api.example.com/')).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource',
    );
    expect(resourceMetadataUrl('https://api.example.com/mcp/')).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    );
    expect(() =>
      protectedResourceMetadata({ resource: 'http://api.example.com', authorizationServers: [ISSUER] }),
    ).toThrow(/https/);
    expect(() =>
      protectedResourceMetadata({ resource: 'https://api.example.com/#x', authorizationServers: [ISSUER] }),
    ).toThrow(/fragment/);
    expect(() => protectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: [] })).toThrow(
      /issuer/,
    );
  });

  it('lets a client that knows only the resource URL find the authorization server, get a token and get in', async () => {
    // A plain fetch handler (no Hono), as on Node, Deno or a Worker without a framework.
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: productFetch().fetch });
    const handler = async (request: Request) => {
      const doc = serveProtectedResourceMetadata(request, metadata);
      if (doc) return doc;
      const result = await verifier.verifyRequest(request, { scopes: ['base'] });
      if (!result.ok) return refusalResponse(result);
      return Response.json({ hello: result.claims.sub });
    };
    const first = await handler(new Request(`${ORIGIN}/v1/things`));
    expect(first.status).toBe(401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(first.headers.get('WWW-Authenticate') ?? '')![1];
    const prm = (await (await handler(new Request(metadataUrl))).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(prm.resource).toBe(AUDIENCE); // RFC 9728 §3.3: the client checks this matches the resource it called
    const asMeta = (await (
      await call(new URL('/.well-known/oauth-authorization-server', prm.authorization_servers[0]).pathname)
    ).json()) as {
      issuer: string;
      token_endpoint: string;
    };
    expect(asMeta.issuer).toBe(prm.authorization_servers[0]);
    const client = await seedClient();
    const tokenRes = await call(new URL(asMeta.token_endpoint).pathname, {
      method: 'POST',
      headers: { Authorization: basic(client.id, client.secret), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=base',
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const second = await handler(resourceRequest(access_token));
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ hello: client.id });
  });
});
