/** PUT/POST/DELETE /v1/img and the listing: scopes, magic numbers, size limit, integrity, overwrite protection. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { objectKey } from '../../src/files/paths';
import { writeImage } from '../../src/storage/files';
import {
  avif,
  bytesOf,
  clientToken,
  getImage,
  gif,
  jpeg,
  png,
  putImage,
  svg,
  uploaded,
  userToken,
  webp,
} from '../files-fixtures';
import { call, errorOf, ORIGIN, seedClient, seedUser, type TestClient } from '../helpers';

let appA: TestClient;
let appB: TestClient;
const tok: Record<string, string> = {};

beforeAll(async () => {
  appA = await seedClient();
  appB = await seedClient();
  const u = await seedUser();
  const w = await seedUser();
  for (const scope of ['files', 'base', 'upload_files', 'base files upload_files'])
    tok[`A:${scope}`] = await clientToken(appA, scope);
  tok['B:base'] = await clientToken(appB, 'base');
  tok['U@A:upload_files'] = await userToken(appA, u, 'upload_files');
  tok['U@A:base'] = await userToken(appA, u, 'base');
  tok['W@A:base'] = await userToken(appA, w, 'base');
});

const stored = (client: TestClient, path: string) => env.FILES.head(objectKey(client.id, path));

async function expectError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  const body = await errorOf(res);
  expect(body.error).toBe(error);
  return body;
}

describe('PUT /v1/img/{path}', () => {
  it('stores the bytes and gives them back byte for byte', async () => {
    const bytes = png(300_000);
    const res = await putImage('round/trip.png', bytes, tok['A:upload_files']);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      path: 'round/trip.png',
      url: `${ORIGIN}/v1/img/round/trip.png`,
      content_type: 'image/png',
      size: bytes.length,
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    });
    expect(res.headers.get('Location')).toBe(body.url);
    const back = await getImage('round/trip.png', tok['A:files'], { query: true });
    expect(back.headers.get('ETag')).toBe(body.etag);
    expect(await bytesOf(back)).toEqual(bytes);
  });

  it('accepts each image type, checked against its bytes', async () => {
    const cases: [string, Uint8Array, string][] = [
      ['t/a.jpg', jpeg(), 'image/jpeg'],
      ['t/a.gif', gif(), 'image/gif'],
      ['t/a.webp', webp(), 'image/webp'],
      ['t/a.avif', avif(), 'image/avif'],
      ['t/a.svg', svg(), 'image/svg+xml'],
      ['t/ünï cödé.png', png(), 'image/png; charset=binary'],
    ];
    for (const [path, bytes, type] of cases) {
      const res = await putImage(path.split('/').map(encodeURIComponent).join('/'), bytes, tok['A:upload_files'], type);
      expect(res.status, path).toBe(201);
      expect(((await res.json()) as { path: string }).path).toBe(path);
    }
  });

  it('serves SVG sandboxed so it cannot run script', async () => {
    const res = await getImage('t/a.svg', tok['A:files'], { query: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/svg+xml');
    expect(res.headers.get('Content-Security-Policy')).toMatch(/default-src 'none'.*sandbox/);
    expect(await res.text()).toContain('<svg');
  });

  it('needs upload_files or base in the Authorization header', async () => {
    expect((await putImage('scope/base.png', png(), tok['A:base'])).status).toBe(201);
    const files = await putImage('scope/files.png', png(), tok['A:files']);
    await expectError(files.clone(), 403, 'insufficient_scope');
    expect(files.headers.get('WWW-Authenticate')).toContain('scope="upload_files base"');
    const inUrl = await call(`/v1/img/scope/url.png?access_token=${tok['A:upload_files']}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'image/png' },
      body: png(),
    });
    await expectError(inUrl, 401, 'invalid_token');
    expect(await stored(appA, 'scope/files.png')).toBeNull();
    expect(await stored(appA, 'scope/url.png')).toBeNull();
  });

  it('answers 415 when the bytes are not an accepted image or not the declared type, storing nothing', async () => {
    const html = new TextEncoder().encode('<html><script>alert(document.cookie)</script></html>');
    const cases: [string, Uint8Array, string][] = [
      ['bad/html.png', html, 'image/png'],
      ['bad/html.html', html, 'text/html'],
      ['bad/jpeg-as-png.png', jpeg(), 'image/png'],
      ['bad/no-type.png', png(), ''],
      ['bad/svg-as-png.png', svg(), 'image/png'],
    ];
    for (const [path, bytes, type] of cases) {
      const res = await putImage(path, bytes, tok['A:upload_files'], type);
      expect(res.status, path).toBe(415);
      expect((await errorOf(res)).description).toMatch(/PNG, JPEG, GIF, WebP, AVIF and SVG/);
      expect(await stored(appA, path), path).toBeNull();
    }
  });

  it('answers 413 over the default 10 MB limit without storing anything', async () => {
    const big = png(10 * 1024 * 1024 + 1);
    await expectError(await putImage('big/over.png', big, tok['A:upload_files']), 413, 'invalid_request');
    expect(await stored(appA, 'big/over.png')).toBeNull();
  });

  it('applies MAX_UPLOAD_BYTES to streamed (chunked) bodies too, and accepts exactly the limit', async () => {
    const small = new Proxy(env, { get: (t, p) => (p === 'MAX_UPLOAD_BYTES' ? '4096' : Reflect.get(t, p)) });
    const send = async (path: string, bytes: Uint8Array) => {
      const body = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
          controller.close();
        },
      });
      const req = new Request(`${ORIGIN}/v1/img/${path}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${tok['A:upload_files']}`, 'Content-Type': 'image/png' },
        body,
      });
      expect(req.headers.get('Content-Length')).toBeNull();
      const ctx = createExecutionContext();
      const res = await app.fetch(req, small, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    await expectError(await send('chunked/over.png', png(4097)), 413, 'invalid_request');
    expect(await stored(appA, 'chunked/over.png')).toBeNull();
    const exact = png(4096);
    expect((await send('chunked/exact.png', exact)).status).toBe(201);
    expect(await bytesOf(await getImage('chunked/exact.png', tok['A:files']))).toEqual(exact);
  });

  it('checks a Content-Digest and stores nothing when the bytes differ', async () => {
    const bytes = png(2000);
    const digest = (b: Uint8Array) =>
      crypto.subtle.digest('SHA-256', b).then((d) => btoa(String.fromCharCode(...new Uint8Array(d))));
    const good = await putImage('digest/good.png', bytes, tok['A:upload_files'], 'image/png', {
      'Content-Digest': `sha-256=:${await digest(bytes)}:`,
    });
    expect(good.status).toBe(201);
    const wrong = await putImage('digest/wrong.png', bytes, tok['A:upload_files'], 'image/png', {
      'Content-Digest': `sha-256=:${await digest(png(10))}:`,
    });
    await expectError(wrong, 400, 'invalid_request');
    expect(await stored(appA, 'digest/wrong.png')).toBeNull();
  });

  it('stores nothing when a streamed body ends before its Content-Length', async () => {
    const bytes = png(3000);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.slice(0, 1500)); // and then the client goes away
        controller.close();
      },
    });
    const res = await call('/v1/img/short/body.png', {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${tok['A:upload_files']}`,
        'Content-Type': 'image/png',
        'Content-Length': '3000',
      },
      body,
    });
    const err = await expectError(res, 400, 'invalid_request');
    expect(err.description).toContain('ended after 1500 of 3000 bytes');
    expect(await stored(appA, 'short/body.png')).toBeNull();
  });
});

describe('overwrite protection', () => {
  it('lets the owner replace an image and refuses everyone else with 403, leaving it intact', async () => {
    const original = png(1000);
    await uploaded('shared/x.png', original, tok['U@A:upload_files']);
    for (const key of ['A:upload_files', 'W@A:base']) {
      const res = await putImage('shared/x.png', png(1000), tok[key]);
      await expectError(res, 403, 'access_denied');
    }
    expect(await bytesOf(await getImage('shared/x.png', tok['A:files']))).toEqual(original);
    const replacement = gif(500);
    const res = await putImage('shared/x.png', replacement, tok['U@A:base'], 'image/gif');
    expect(res.status).toBe(201);
    const back = await getImage('shared/x.png', tok['A:files']);
    expect(back.headers.get('Content-Type')).toBe('image/gif');
    expect(await bytesOf(back)).toEqual(replacement);
  });

  it('refuses with 403 when someone else creates the path between our check and our write', async () => {
    const theirs = png(800);
    await uploaded('race/route.png', theirs, tok['U@A:upload_files']);
    // The first head() answers as if the path were still free: exactly what a concurrent create looks like.
    let heads = 0;
    const files = new Proxy(env.FILES, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as (...a: unknown[]) => unknown;
        if (prop === 'head')
          return (...a: unknown[]) => (++heads === 1 ? Promise.resolve(null) : value.apply(target, a));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const staleEnv = new Proxy(env, { get: (t, p) => (p === 'FILES' ? files : Reflect.get(t, p)) });
    const req = new Request(`${ORIGIN}/v1/img/race/route.png`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tok['W@A:base']}`, 'Content-Type': 'image/png', 'Content-Length': '5000' }, // the streamed path
      body: png(5000),
    });
    expect(req.headers.get('Content-Length')).toBe('5000');
    const ctx = createExecutionContext();
    const res = await app.fetch(req, staleEnv, ctx);
    await waitOnExecutionContext(ctx);
    await expectError(res, 403, 'access_denied');
    expect(heads).toBe(2);
    expect(await bytesOf(await getImage('race/route.png', tok['A:files']))).toEqual(theirs);
  });

  it('makes check-and-write atomic: a write based on a stale check does nothing', async () => {
    const key = objectKey(appA.id, 'race/y.png');
    const mine = { owner: 'usr_mine', clientId: appA.id };
    const theirs = { owner: 'usr_theirs', clientId: appA.id };
    const first = await writeImage(env.FILES, key, png().buffer as ArrayBuffer, {
      contentType: 'image/png',
      ownership: theirs,
      expect: 'absent',
    });
    expect(first.kind).toBe('stored');
    // We checked while the key was free; they won the race: our write must not land.
    const late = await writeImage(env.FILES, key, png().buffer as ArrayBuffer, {
      contentType: 'image/png',
      ownership: mine,
      expect: 'absent',
    });
    expect(late.kind).toBe('changed');
    // We checked an older version of our own object; it has changed since.
    const stale = await writeImage(env.FILES, key, png().buffer as ArrayBuffer, {
      contentType: 'image/png',
      ownership: mine,
      expect: { etag: '0'.repeat(32) },
    });
    expect(stale.kind).toBe('changed');
    expect((await env.FILES.head(key))?.customMetadata?.owner).toBe('usr_theirs');
  });
});

describe('POST /v1/img (multipart)', () => {
  const post = (form: FormData, token: string) => {
    const req = new Request(`${ORIGIN}/v1/img`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: form,
    });
    return req.arrayBuffer().then((body) =>
      call('/v1/img', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': req.headers.get('Content-Type')! },
        body,
      }),
    );
  };

  it('stores the file under a name the server picks, byte for byte', async () => {
    const bytes = webp(4000);
    const form = new FormData();
    form.append('file', new File([bytes], 'holiday.webp', { type: 'image/webp' }));
    const res = await post(form, tok['A:upload_files']);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { path: string; url: string; content_type: string; size: number };
    expect(body.path).toMatch(/^[A-Za-z0-9_-]{20}\.webp$/);
    expect(body).toMatchObject({ url: `${ORIGIN}/v1/img/${body.path}`, content_type: 'image/webp', size: 4000 });
    expect(await bytesOf(await getImage(body.path, tok['A:files'], { query: true }))).toEqual(bytes);

    const again = new FormData();
    again.append('file', new File([bytes], 'holiday.webp', { type: 'application/octet-stream' }));
    const second = (await (await post(again, tok['A:upload_files'])).json()) as { path: string; content_type: string };
    expect(second.path).not.toBe(body.path);
    expect(second.content_type).toBe('image/webp');
  });

  it('refuses a missing file field, a non-image, and a files token', async () => {
    const noFile = new FormData();
    noFile.append('other', 'x');
    await expectError(await post(noFile, tok['A:upload_files']), 400, 'invalid_request');
    const text = new FormData();
    text.append('file', new File(['hello'], 'a.png', { type: 'image/png' }));
    await expectError(await post(text, tok['A:upload_files']), 415, 'invalid_request');
    const ok = new FormData();
    ok.append('file', new File([png()], 'a.png', { type: 'image/png' }));
    await expectError(await post(ok, tok['A:files']), 403, 'insufficient_scope');
    const raw = await call('/v1/img', {
      method: 'POST',
      headers: { Authorization: `Bearer ${tok['A:upload_files']}`, 'Content-Type': 'image/png' },
      body: png(),
    });
    await expectError(raw, 415, 'invalid_request');
  });
});

describe('DELETE /v1/img/{path}', () => {
  it('lets the owner delete with base; others get 403 (same client) or 404 (other client)', async () => {
    await uploaded('del/me.png', png(), tok['U@A:upload_files']);
    const del = (token: string) =>
      call('/v1/img/del/me.png', { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    await expectError(await del(tok['U@A:upload_files']), 403, 'insufficient_scope');
    await expectError(await del(tok['A:base']), 403, 'access_denied');
    await expectError(await del(tok['B:base']), 404, 'invalid_request');
    expect(await stored(appA, 'del/me.png')).not.toBeNull();
    const ok = await del(tok['U@A:base']);
    expect(ok.status).toBe(204);
    expect(await stored(appA, 'del/me.png')).toBeNull();
    expect((await getImage('del/me.png', tok['A:files'])).status).toBe(404);
    await expectError(await del(tok['U@A:base']), 404, 'invalid_request');
  });
});

describe('GET /v1/img (listing)', () => {
  it('lists only the caller’s objects, page by page', async () => {
    const mine = ['list/1.png', 'list/2.png', 'list/3.png'];
    for (const p of mine) await uploaded(p, png(), tok['W@A:base']);
    await uploaded('list/not-mine.png', png(), tok['U@A:upload_files']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await call(`/v1/img?limit=2${q}`, { headers: { Authorization: `Bearer ${tok['W@A:base']}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      const page = (await res.json()) as {
        items: { path: string; url: string; size: number; content_type: string }[];
        cursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        expect(item.url).toBe(`${ORIGIN}/v1/img/${item.path}`);
        expect(item.content_type).toBe('image/png');
      }
      seen.push(...page.items.map((i) => i.path));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen.sort()).toEqual(mine);
    expect(pages).toBeGreaterThan(1);
  });

  it('needs base, in the header, and a sane limit', async () => {
    await expectError(
      await call('/v1/img', { headers: { Authorization: `Bearer ${tok['A:files']}` } }),
      403,
      'insufficient_scope',
    );
    await expectError(await call(`/v1/img?access_token=${tok['A:base']}`), 401, 'invalid_token');
    await expectError(
      await call('/v1/img?limit=0', { headers: { Authorization: `Bearer ${tok['A:base']}` } }),
      400,
      'invalid_request',
    );
    const other = await call('/v1/img', { headers: { Authorization: `Bearer ${tok['B:base']}` } });
    expect(((await other.json()) as { items: unknown[] }).items).toEqual([]);
  });
});

describe('one client_credentials token with every scope (the benchmark scenario)', () => {
  it('uploads and reads back with the header', async () => {
    const bytes = png(1024);
    const body = await uploaded('bench/a.png', bytes, tok['A:base files upload_files']);
    const res = await getImage(body.path, tok['A:base files upload_files']);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(bytes);
  });
});
