/**
 * Issue 14 part 3, "End to end in CI": from nothing but the MCP server's URL, the MCP SDK client (Client +
 * StreamableHTTPClientTransport with an OAuthClientProvider) discovers the authorization server from the MCP
 * server's 401 (RFC 9728), registers openly (REGISTRATION_POLICY open-public, as `npm start` runs it), authorizes
 * with PKCE and `resource` = the MCP server's URL through the sign-in and consent pages (form posts), and calls the
 * tools; the token's aud is exactly the MCP server, and a token for another resource (/v1) is refused by it.
 * The MCP Worker (examples/mcp-server) verifies through the real service binding (env.AUTH), the product runs as
 * its own fetch handler; both are reached through one fetch that routes by origin.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { beforeAll, describe, expect, it } from 'vitest';
import mcp, { type McpEnv } from '../../examples/mcp-server/worker';
import { app } from '../../src/app';
import { Browser, hiddenFields, signIn } from '../authz-helpers';
import { png, userToken } from '../files-fixtures';
import { ORIGIN, seedClient, seedUser } from '../helpers';
import { admin, claimsOf } from '../ops-helpers';

const MCP_ORIGIN = 'http://localhost:8788';
const RESOURCE = `${MCP_ORIGIN}/mcp`;
const CALLBACK = 'http://localhost:6274/oauth/callback'; // the MCP Inspector's default callback
const mcpEnv: McpEnv = {
  AUTH: env.AUTH,
  FILES: env.FILES,
  RESOURCE,
  LINK_SECRET: 'test-link-secret-0123456789abcdef',
};

/** The network as the client sees it: the MCP server's origin and the authorization server's. */
async function net(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const req = new Request(input, init);
  if (new URL(req.url).origin === MCP_ORIGIN) return mcp.fetch(req, mcpEnv);
  const ctx = createExecutionContext();
  const res = await app.fetch(req, { ...env, REGISTRATION_POLICY: 'open-public' }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

class Provider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  get redirectUrl() {
    return CALLBACK;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP e2e client',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The user signs in and allows, as a browser would; returns the code. */
async function approve(url: URL): Promise<string> {
  const user = await seedUser();
  const b = new Browser();
  const path = `${url.pathname}${url.search}`;
  let res = await signIn(b, user.email, user.password, path);
  res = await b.get(res.headers.get('Location')!);
  expect(res.status).toBe(200);
  const page = await res.text();
  expect(page).toContain(RESOURCE); // the consent page names the resource (RFC 8707)
  res = await b.post('/oauth2/authorize', { ...hiddenFields(page), decision: 'allow' });
  const back = new URL(res.headers.get('Location')!);
  expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
  return back.searchParams.get('code')!;
}

beforeAll(async () => {
  // The operator registers the MCP server as a resource server (what `npm start` does for the local one).
  const res = await admin('POST', '/resources', {
    resource: RESOURCE,
    name: 'Images (MCP)',
    scopes: ['files', 'upload_files'],
  });
  expect([201, 409]).toContain(res.status);
});

describe('examples/mcp-server end to end with the MCP SDK client and the product (issue 14 part 3)', () => {
  it('discovers from the 401, registers, authorizes with PKCE + resource, lists tools, uploads and reads an image', async () => {
    const provider = new Provider();
    // Without a token the transport gets the RFC 9728 challenge; the SDK's auth() follows it.
    const bare = new Client({ name: 'e2e', version: '1.0.0' });
    await expect(
      bare.connect(new StreamableHTTPClientTransport(new URL(RESOURCE), { fetch: net, authProvider: provider })),
    ).rejects.toThrow(/Unauthorized/);
    const url = provider.authorizationUrl!;
    expect(url.origin).toBe(ORIGIN);
    expect(url.searchParams.get('resource')).toBe(RESOURCE);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(provider.info?.client_id).toBeTruthy(); // registered openly

    expect(await auth(provider, { serverUrl: RESOURCE, authorizationCode: await approve(url), fetchFn: net })).toBe(
      'AUTHORIZED',
    );
    const token = provider.saved!.access_token;
    expect(claimsOf(token)).toMatchObject({ aud: RESOURCE, client_id: provider.info!.client_id });

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(RESOURCE), { fetch: net, authProvider: provider }));
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'get_image_link',
      'list_images',
      'upload_image',
      'upload_image_from_url',
    ]);
    const bytes = png(128);
    const up = await client.callTool({
      name: 'upload_image',
      arguments: { path: 'e2e/cat.png', base64: btoa(String.fromCharCode(...bytes)), contentType: 'image/png' },
    });
    expect(up.isError).toBeFalsy();
    const text = (r: unknown) => (r as { content: { text: string }[] }).content[0].text;
    const listed = JSON.parse(text(await client.callTool({ name: 'list_images', arguments: {} })));
    expect(listed.images).toEqual([expect.objectContaining({ path: 'e2e/cat.png', size: 128 })]);
    const link = text(await client.callTool({ name: 'get_image_link', arguments: { path: 'e2e/cat.png' } }));
    const img = await net(link);
    expect(img.status).toBe(200);
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(bytes);
    await client.close();

    // The MCP server's token is refused by /v1 (its aud is the MCP server), and a real /v1 token of the product
    // (default audience) is refused by the MCP server: a token for another resource never crosses (RFC 8707).
    expect((await net(`${ORIGIN}/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    const v1Token = await userToken(await seedClient(), await seedUser(), 'files upload_files');
    const refused = await net(RESOURCE, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${v1Token}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  });
});
