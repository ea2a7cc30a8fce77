/**
 * Issue 14 part 3: examples/mcp-server's `upload_image_from_url`, "upload one from a URL": the URL is fetched only
 * through the product's SSRF-safe fetcher (src/lib/safe-fetch.ts), under a size cap, and stored only when the bytes
 * are an accepted image agreeing with the declared type (src/files/magic.ts). The URL is served by intercepting the
 * outbound fetch (test/outbound.ts: the example runs in this isolate), so the fetcher keeps https only.
 * Also the same magic-number rule for `upload_image` (base64).
 */
import { env } from 'cloudflare:workers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import mcp, { type McpEnv } from '../../examples/mcp-server/worker';
import { jpeg, png, userToken } from '../files-fixtures';
import { seedClient, seedUser } from '../helpers';
import { interceptOutbound } from '../outbound';

const RESOURCE = env.ACCESS_TOKEN_AUDIENCE;
const CAP = 4096;
const mcpEnv: McpEnv = {
  AUTH: env.AUTH,
  FILES: env.FILES,
  RESOURCE,
  LINK_SECRET: 'test-link-secret-0123456789abcdef',
  MAX_UPLOAD_BYTES: String(CAP),
};
const mcpFetch = (input: string | URL | Request, init?: RequestInit) => mcp.fetch(new Request(input, init), mcpEnv);

async function connect(scope = 'files upload_files'): Promise<Client> {
  const token = await userToken(await seedClient(), await seedUser(), scope);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(RESOURCE), {
      fetch: mcpFetch,
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

type ToolResult = { isError?: boolean; content: { text: string }[] };
const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as ToolResult;
const image = (bytes: Uint8Array, type = 'image/png', extra: Record<string, string> = {}) =>
  new Response(bytes, { headers: { 'Content-Type': type, ...extra } });
const listed = async (client: Client) =>
  JSON.parse((await call(client, 'list_images', {})).content[0].text).images.map((i: { path: string }) => i.path);

describe('upload_image_from_url', () => {
  it('fetches a public https image with the SSRF-safe fetcher and stores it; the link serves the same bytes', async () => {
    const bytes = png(1000);
    const url = 'https://images.example.com/cat.png';
    const out = interceptOutbound({ [url]: () => image(bytes) });
    const client = await connect();
    const r = await call(client, 'upload_image_from_url', { path: 'web/cat.png', url });
    expect(r.isError).toBeFalsy();
    expect(JSON.parse(r.content[0].text)).toEqual({ path: 'web/cat.png', size: 1000, contentType: 'image/png' });
    expect(out.requests).toHaveLength(1);
    expect(out.requests[0].redirect).toBe('manual');
    expect(out.requests[0].headers.get('Accept')).toContain('image/png');
    expect(await listed(client)).toEqual(['web/cat.png']);
    const link = (await call(client, 'get_image_link', { path: 'web/cat.png' })).content[0].text;
    const img = await mcpFetch(link);
    expect(img.status).toBe(200);
    expect(img.headers.get('Content-Type')).toBe('image/png');
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(bytes);
    // A generic Content-Type leaves the bytes to decide.
    const generic = 'https://images.example.com/photo';
    out.route(generic, () => image(jpeg(500), 'application/octet-stream'));
    const g = await call(client, 'upload_image_from_url', { path: 'web/photo.jpg', url: generic });
    expect(JSON.parse(g.content[0].text)).toMatchObject({ contentType: 'image/jpeg', size: 500 });
    await client.close();
  });

  it('refuses SSRF targets, redirects, errors, oversized and non-image answers; stores nothing', async () => {
    const big = 'https://images.example.com/big.png';
    const streamed = 'https://images.example.com/streamed.png';
    const out = interceptOutbound({
      'https://images.example.com/moved.png': () =>
        new Response(null, { status: 302, headers: { Location: 'http://169.254.169.254/latest/meta-data' } }),
      'https://images.example.com/missing.png': () => new Response('no', { status: 404 }),
      [big]: () => image(png(CAP + 1)),
      // No Content-Length: the cap is counted while streaming.
      [streamed]: () =>
        image(
          new ReadableStream({
            start(c) {
              for (let i = 0; i < 8; i++) c.enqueue(png(1024));
              c.close();
            },
          }) as unknown as Uint8Array,
        ),
      'https://images.example.com/page.png': () => image(new TextEncoder().encode('<html>hi</html>'), 'text/html'),
      'https://images.example.com/liar.png': () => image(jpeg(300), 'image/png'),
      'https://images.example.com/bitmap.bmp': () => image(png(300), 'image/bmp'),
    });
    const client = await connect();
    const cases: [string, RegExp][] = [
      ['http://images.example.com/cat.png', /cannot be fetched: .*https/],
      ['https://127.0.0.1/cat.png', /cannot be fetched/],
      ['https://169.254.169.254/latest/meta-data', /cannot be fetched/],
      ['https://localhost/cat.png', /cannot be fetched/],
      ['https://metadata.internal/x.png', /cannot be fetched/],
      ['https://images.example.com/moved.png', /redirect \(HTTP 302\); redirects are not followed/],
      ['https://images.example.com/missing.png', /answered HTTP 404 instead of 200/],
      [big, new RegExp(`the image is larger than ${CAP} bytes`)],
      [streamed, new RegExp(`the image is larger than ${CAP} bytes`)],
      ['https://images.example.com/page.png', /not an image of an accepted type/],
      ['https://images.example.com/liar.png', /The bytes are image\/jpeg, not the declared image\/png/],
      ['https://images.example.com/bitmap.bmp', /serves image\/bmp, not an accepted image type/],
      ['https://unrouted.example.com/x.png', /could not be fetched \(the host did not answer\)/],
      ['not a url', /cannot be fetched/],
    ];
    for (const [url, why] of cases) {
      const r = await call(client, 'upload_image_from_url', { path: 'web/x.png', url });
      expect(r.isError, url).toBe(true);
      expect(r.content[0].text, url).toMatch(why);
    }
    // Refused before any fetch: the SSRF targets and the malformed URL never reached the network.
    const fetched = out.requests.map((r) => r.url);
    for (const u of ['http://images.example.com/cat.png', 'https://127.0.0.1/cat.png', 'https://localhost/cat.png'])
      expect(fetched).not.toContain(u);
    expect(fetched).not.toContain('http://169.254.169.254/latest/meta-data');
    const bad = await call(client, 'upload_image_from_url', { path: '../x/cat.png', url: big });
    expect(bad).toMatchObject({ isError: true, content: [{ text: 'Invalid path.' }] });
    expect(await listed(client)).toEqual([]);
  });

  it('needs upload_files (403 insufficient_scope before anything is fetched)', async () => {
    const out = interceptOutbound({});
    const token = await userToken(await seedClient(), await seedUser(), 'files');
    const res = await mcpFetch(RESOURCE, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'upload_image_from_url',
          arguments: { path: 'a.png', url: 'https://images.example.com/a.png' },
        },
      }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('WWW-Authenticate')).toContain('scope="upload_files"');
    expect(out.requests).toEqual([]);
  });
});

describe('upload_image (base64) checks the bytes too', () => {
  it('refuses bytes that are not an accepted image or not the declared type', async () => {
    const client = await connect();
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
    const html = await call(client, 'upload_image', {
      path: 'x.png',
      base64: b64(new TextEncoder().encode('<html></html>')),
      contentType: 'image/png',
    });
    expect(html.isError).toBe(true);
    expect(html.content[0].text).toMatch(/not an image of an accepted type/);
    const liar = await call(client, 'upload_image', {
      path: 'x.png',
      base64: b64(jpeg(100)),
      contentType: 'image/png',
    });
    expect(liar.content[0].text).toBe('The bytes are image/jpeg, not the declared image/png.');
    expect(await listed(client)).toEqual([]);
    const ok = await call(client, 'upload_image', { path: 'x.jpg', base64: b64(jpeg(100)), contentType: 'image/jpeg' });
    expect(ok.isError).toBeFalsy();
    expect(await listed(client)).toEqual(['x.jpg']);
  });
});
