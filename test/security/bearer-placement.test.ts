/**
 * Issue 10 item 8, issue 12: one rule for where an access token may be presented, the same on every protected
 * route (RFC 6750 §2: a client MUST NOT use more than one method; §2.3: the URL form only for image URLs, and only
 * for a token whose scope is exactly `files`). Fails on main: /v1/me accepted a token in the header and in
 * `?access_token=` at once, and ignored a token in its URL; the admin API ignored one too.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientToken, png, uploaded } from '../files-fixtures';
import { call, errorOf, seedClient, type TestClient } from '../helpers';

const BOTH = 'Send the access token either in the Authorization header or in the access_token parameter, not both.';
const NOT_IN_URL = 'This resource does not accept an access token in the URL; send it in the Authorization header.';

let client: TestClient;
const tok: Record<string, string> = {};

beforeAll(async () => {
  client = await seedClient();
  for (const scope of ['base', 'files', 'upload_files', 'base files upload_files'])
    tok[scope] = await clientToken(client, scope);
  await uploaded('placement/a.png', png(300), tok.upload_files);
});

/** Every protected route, with the request that reaches its bearer check. */
const ROUTES: [string, string, (t: string) => RequestInit][] = [
  ['GET', '/v1/me', () => ({})],
  ['GET', '/v1/img/placement/a.png', () => ({})],
  ['HEAD', '/v1/img/placement/a.png', () => ({})],
  ['PUT', '/v1/img/placement/b.png', () => ({ headers: { 'Content-Type': 'image/png' }, body: png(300) })],
  ['POST', '/v1/img', () => ({ headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, body: '--x--\r\n' })],
  ['DELETE', '/v1/img/placement/a.png', () => ({})],
  ['GET', '/v1/img', () => ({})],
];

function send(
  method: string,
  path: string,
  init: RequestInit,
  header: string | null,
  query: string | null,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (header !== null) headers.set('Authorization', `Bearer ${header}`);
  const url = query === null ? path : `${path}?access_token=${encodeURIComponent(query)}`;
  return call(url, { ...init, method, headers });
}

async function expectInvalidRequest(res: Response, method: string, description: string, realm = 'api') {
  expect(res.status).toBe(400);
  expect(res.headers.get('WWW-Authenticate')).toBe(
    `Bearer realm="${realm}", error="invalid_request", error_description="${description.replace(/["\\]/g, '')}"${realm === 'api' ? ', resource_metadata="http://localhost:8787/.well-known/oauth-protected-resource/v1"' : ''}`,
  ); // quotes dropped in the header
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  if (method === 'HEAD') return;
  expect(await errorOf(res)).toEqual({ status: 400, error: 'invalid_request', description });
}

describe('a token in the header and in the URL at once (RFC 6750 §2)', () => {
  it.each(ROUTES)('%s %s: 400 invalid_request, the same answer on every route', async (method, path, init) => {
    // The most permissive token, so that nothing but the placement can be the reason for the refusal.
    const all = tok['base files upload_files'];
    await expectInvalidRequest(await send(method, path, init(all), all, all), method, BOTH);
    // A files token in the URL (the form image URLs use) with any header token: refused just the same.
    await expectInvalidRequest(await send(method, path, init(all), tok.base, tok.files), method, BOTH);
  });

  it('an empty access_token beside a header token is refused too, and nothing changed in R2', async () => {
    await expectInvalidRequest(await send('DELETE', '/v1/img/placement/a.png', {}, tok.base, ''), 'DELETE', BOTH);
    expect(await env.FILES.head(`c/${client.id}/placement/a.png`)).not.toBeNull();
    expect(await env.FILES.head(`c/${client.id}/placement/b.png`)).toBeNull();
  });
});

describe('a token in the URL where the URL form is not allowed', () => {
  it('/v1/me refuses a token in its URL, even alone and even a files token', async () => {
    for (const t of [tok.base, tok.files]) {
      await expectInvalidRequest(await send('GET', '/v1/me', {}, null, t), 'GET', NOT_IN_URL);
    }
    const ok = await send('GET', '/v1/me', {}, tok.base, null);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ type: 'client', client_id: client.id });
  });

  it('the admin API refuses a token in its URL, beside the header and alone', async () => {
    const admin = env.ADMIN_TOKEN as string;
    await expectInvalidRequest(await send('GET', '/admin/clients', {}, admin, admin), 'GET', BOTH, 'admin');
    await expectInvalidRequest(await send('GET', '/admin/clients', {}, null, admin), 'GET', NOT_IN_URL, 'admin');
    expect((await send('GET', '/admin/clients', {}, admin, null)).status).toBe(200);
  });

  it('image routes accept the URL form for a files token only (unchanged)', async () => {
    const read = await send('GET', '/v1/img/placement/a.png', {}, null, tok.files);
    expect(read.status).toBe(200);
    await read.arrayBuffer();
    const base = await send('GET', '/v1/img/placement/a.png', {}, null, tok.base);
    expect(base.status).toBe(401);
    expect(base.headers.get('WWW-Authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_token", .*scope="files", resource_metadata="[^"]+"$/,
    );
    expect(await errorOf(base)).toMatchObject({
      error: 'invalid_token',
      description: expect.stringContaining('scope=files'),
    });
  });
});

describe('the other checks of the one middleware, alike on every route', () => {
  it.each(ROUTES)(
    '%s %s: a repeated access_token is 400; no token at all is the bare challenge',
    async (method, path, init) => {
      const url = `${path}?access_token=${tok.files}&access_token=${tok.files}`;
      await expectInvalidRequest(
        await call(url, { ...init(''), method }),
        method,
        'The access_token parameter is repeated.',
      );
      const none = await send(method, path, init(''), null, null);
      expect(none.status).toBe(401);
      expect(none.headers.get('WWW-Authenticate')).toMatch(
        /^Bearer realm="api", scope="[a-z_ ]+", resource_metadata="[^"]+"$/,
      );
      expect(none.headers.get('Cache-Control')).toBe('no-store');
    },
  );

  it.each(ROUTES)('%s %s: a malformed Authorization header is 400 invalid_request', async (method, path, init) => {
    const res = await call(path, {
      ...init(''),
      method,
      headers: { ...(init('').headers as Record<string, string>), Authorization: 'Bearer a b' },
    });
    await expectInvalidRequest(res, method, 'The Authorization header must be "Bearer <token>".');
  });
});
