/**
 * Issue 10 item 7: every absolute URL the server emits comes from the configured issuer (ISSUER, src/config.ts),
 * never from the request's Host header (which the client chooses; on Workers it is also the host of
 * `request.url`). Fails on main: the upload Location, the upload body's `url` and the listing's `url`s were
 * built from the request URL's origin.
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientToken, png } from '../files-fixtures';
import { ORIGIN, seedClient } from '../helpers';

const worker = (exports as unknown as { default: Fetcher }).default;
const EVIL = 'https://evil.example';

/** A request as it arrives when the client sends `Host: evil.example` (the Worker's request.url carries that host). */
function viaEvilHost(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Host', 'evil.example');
  return worker.fetch(new Request(`${EVIL}${path}`, { ...init, headers }));
}

let base: string;

beforeAll(async () => {
  base = await clientToken(await seedClient(), 'base');
});

describe('absolute URLs come from the issuer, whatever the Host', () => {
  it('PUT: Location and the body url are on the issuer', async () => {
    const res = await viaEvilHost('/v1/img/host/a%20b.png', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${base}`, 'Content-Type': 'image/png' },
      body: png(300),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('Location')).toBe(`${ORIGIN}/v1/img/host/a%20b.png`);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.json()).toMatchObject({
      path: 'host/a b.png',
      url: `${ORIGIN}/v1/img/host/a%20b.png`,
      content_type: 'image/png',
      size: 300,
    });
  });

  it('POST (multipart): Location and the body url are on the issuer', async () => {
    const form = new FormData();
    form.set('file', new File([png(200)], 'x.png', { type: 'image/png' }));
    const encoded = new Response(form); // one encoding: its boundary and its Content-Type go together
    const type = encoded.headers.get('Content-Type')!;
    const body = new Uint8Array(await encoded.arrayBuffer());
    const res = await viaEvilHost('/v1/img', {
      method: 'POST',
      headers: { Authorization: `Bearer ${base}`, 'Content-Type': type },
      body,
    });
    expect(res.status).toBe(201);
    const json = (await res.json()) as { path: string; url: string };
    expect(json.url).toBe(`${ORIGIN}/v1/img/${json.path}`);
    expect(res.headers.get('Location')).toBe(json.url);
  });

  it('the listing: every url is on the issuer', async () => {
    const res = await viaEvilHost('/v1/img', { headers: { Authorization: `Bearer ${base}` } });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { path: string; url: string }[] };
    expect(items.length).toBe(2);
    for (const item of items)
      expect(item.url).toBe(`${ORIGIN}/v1/img/${item.path.split('/').map(encodeURIComponent).join('/')}`);
  });

  it('metadata and redirects: no URL on the requested host', async () => {
    const meta = await viaEvilHost('/.well-known/oauth-authorization-server');
    expect(meta.status).toBe(200);
    const text = await meta.text();
    expect(text).not.toContain('evil.example');
    expect(JSON.parse(text)).toMatchObject({ issuer: ORIGIN, token_endpoint: `${ORIGIN}/oauth2/token` });
    // Pages redirect with a path only (resolved by the browser against the URL it used), never with our own host.
    const portal = await viaEvilHost('/apps', { redirect: 'manual' });
    expect(portal.status).toBe(302);
    expect(portal.headers.get('Location')).toBe('/login?next=%2Fapps');
  });
});
