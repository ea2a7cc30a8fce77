/**
 * Issue 14 part 3: examples/mcp-server driven by the MCP SDK client (Client + StreamableHTTPClientTransport) with
 * its fetch routed to the Worker, which verifies tokens through the real service binding (env.AUTH) and reads the
 * product's real R2 bucket. Tokens come from the product's existing grants; their aud is today's single audience,
 * so the server runs here with RESOURCE = ACCESS_TOKEN_AUDIENCE; the OAuth flow with its own audience is mcp-oauth.test.ts.
 */
import { env } from 'cloudflare:workers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import mcp, { type McpEnv } from '../../examples/mcp-server/worker';
import { png, uploaded, userToken } from '../files-fixtures';
import { seedClient, seedUser } from '../helpers';
import { revokeRequest } from '../ops-helpers';
import { claims, forge, productSigningKey } from '../resource-server/rs-helpers';

const RESOURCE = env.ACCESS_TOKEN_AUDIENCE; // tokens minted by the product's grants, without `resource`
const METADATA = `${new URL(RESOURCE).origin}/.well-known/oauth-protected-resource${new URL(RESOURCE).pathname}`;
const mcpEnv: McpEnv = {
  AUTH: env.AUTH,
  FILES: env.FILES,
  RESOURCE,
  LINK_SECRET: 'test-link-secret-0123456789abcdef',
};
const mcpFetch = (input: string | URL | Request, init?: RequestInit) => mcp.fetch(new Request(input, init), mcpEnv);

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(RESOURCE), {
    fetch: mcpFetch,
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

const rpc = (body: unknown, token?: string) =>
  mcpFetch(RESOURCE, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
const callTool = (name: string, args: unknown, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

async function userWithImage() {
  const client = await seedClient();
  const user = await seedUser();
  const token = await userToken(client, user, 'files upload_files');
  const bytes = png(300);
  await uploaded('mcp/cat.png', bytes, token);
  return { client, token, bytes };
}

describe('examples/mcp-server', () => {
  it('an unauthenticated call is 401 with resource_metadata, and the RFC 9728 document is served', async () => {
    const res = await rpc({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(res.status).toBe(401);
    // RFC 6750 §3: no error code for a request without credentials; the scopes it may ask for, and RFC 9728 §5.1.
    expect(res.headers.get('WWW-Authenticate')).toBe(
      `Bearer scope="files upload_files", resource_metadata="${METADATA}"`,
    );
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const meta = await mcpFetch(METADATA);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [env.ISSUER],
      scopes_supported: ['files', 'upload_files'],
    });
  });

  it('the SDK client lists the tools and gets a working short-lived link to the user’s own image', async () => {
    const { token, bytes } = await userWithImage();
    const client = await connect(token);
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['get_image_link', 'list_images', 'upload_image', 'upload_image_from_url']);
    const listed = await client.callTool({ name: 'list_images', arguments: {} });
    const text = (r: unknown) => (r as { content: { text: string }[] }).content[0].text;
    expect(JSON.parse(text(listed)).images).toEqual([expect.objectContaining({ path: 'mcp/cat.png', size: 300 })]);
    const link = text(await client.callTool({ name: 'get_image_link', arguments: { path: 'mcp/cat.png' } }));
    const img = await mcpFetch(link);
    expect(img.status).toBe(200);
    expect(img.headers.get('Content-Type')).toBe('image/png');
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(bytes);
    // A tampered link is refused.
    const bad = await mcpFetch(link.replace('cat.png', 'dog.png'));
    expect(bad.status).toBe(404);
    await client.close();
  });

  it('upload_image stores base64 bytes in the caller’s namespace; another client sees none of them', async () => {
    const { token } = await userWithImage();
    const client = await connect(token);
    const r = await client.callTool({
      name: 'upload_image',
      arguments: { path: 'mcp/new.png', base64: btoa(String.fromCharCode(...png(64))), contentType: 'image/png' },
    });
    expect(r.isError).toBeFalsy();
    const other = await userWithImage();
    const c2 = await connect(other.token);
    const listed = await c2.callTool({ name: 'list_images', arguments: {} });
    const paths = JSON.parse((listed as { content: { text: string }[] }).content[0].text).images.map(
      (i: { path: string }) => i.path,
    );
    expect(paths).toEqual(['mcp/cat.png']);
    const outside = await client.callTool({ name: 'get_image_link', arguments: { path: '../x/cat.png' } });
    expect(outside.isError).toBe(true);
  });

  it('a tool whose scope the token lacks is 403 insufficient_scope', async () => {
    const client = await seedClient();
    const token = await userToken(client, await seedUser(), 'files');
    const res = await rpc(callTool('upload_image', { path: 'a.png', base64: 'AA==', contentType: 'image/png' }), token);
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope", error_description=');
    expect(res.headers.get('WWW-Authenticate')).toContain(`scope="upload_files", resource_metadata="${METADATA}"`);
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
    expect((await rpc(callTool('list_images', {}), token)).status).toBe(200);
  });

  it('expired, other-audience and revoked tokens are refused (revocation at once, through the binding)', async () => {
    const { jwk, key } = await productSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge(claims({ iat: now - 7200, exp: now - 3600, scope: 'files' }), { kid: jwk.kid }, key);
    let res = await rpc(callTool('list_images', {}), expired);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    const other = await forge(claims({ aud: 'https://other.example/api', scope: 'files' }), { kid: jwk.kid }, key);
    res = await rpc(callTool('list_images', {}), other);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });

    const { client, token } = await userWithImage();
    expect((await rpc(callTool('list_images', {}), token)).status).toBe(200);
    expect((await revokeRequest(client, { token })).status).toBe(200);
    res = await rpc(callTool('list_images', {}), token);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('The access token has been revoked.');
  });
});
