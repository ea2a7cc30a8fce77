/**
 * Issue 10 item 6: RFC 9110 §13 preconditions on images, on PUT, GET, HEAD and DELETE. A failed precondition is
 * 412 and changes nothing in R2 (checked on the bucket itself); GET/HEAD keep their 304. Fails on main: PUT and
 * DELETE ignored If-Match, If-None-Match and If-Unmodified-Since, and GET ignored If-Match and If-Unmodified-Since.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, clientToken, getImage, jpeg, png, putImage, uploaded, userToken } from '../files-fixtures';
import { call, errorOf, seedClient, seedUser, type TestClient } from '../helpers';

let client: TestClient;
let other: string;
let base: string;
let n = 0;

beforeAll(async () => {
  client = await seedClient();
  base = await clientToken(client, 'base');
  other = await clientToken(await seedClient(), 'base');
});

const keyOf = (path: string) => `c/${client.id}/${path}`;

/** A fresh image of our own; returns its path, its quoted ETag and its Last-Modified. */
async function fresh(bytes = png(400)) {
  const path = `cond/${++n}.png`;
  const body = await uploaded(path, bytes, base);
  const object = (await env.FILES.head(keyOf(path)))!;
  return { path, bytes, etag: body.etag, lastModified: object.uploaded.toUTCString(), uploaded: object.uploaded };
}

const earlier = (d: Date) => new Date(d.getTime() - 60_000).toUTCString();

async function expect412(res: Response, method = 'PUT') {
  expect(res.status).toBe(412);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  if (method === 'HEAD') return expect((await bytesOf(res)).length).toBe(0);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  expect(await errorOf(res)).toMatchObject({
    status: 412,
    error: 'invalid_request',
    description: expect.stringContaining('nothing was changed'),
  });
}

/** The object in R2 is still exactly what was uploaded. */
async function expectUnchanged(img: { path: string; bytes: Uint8Array; etag: string }) {
  const object = await env.FILES.get(keyOf(img.path));
  expect(object?.httpEtag).toBe(img.etag);
  expect(new Uint8Array(await object!.arrayBuffer())).toEqual(img.bytes);
}

describe('PUT', () => {
  it('If-Match with a stale tag: 412 and the image unchanged; with the current tag: replaced', async () => {
    const img = await fresh();
    const second = png(500);
    const replaced = await uploaded(img.path, second, base);
    const now = { path: img.path, bytes: second, etag: replaced.etag };
    await expect412(await putImage(img.path, png(600), base, 'image/png', { 'If-Match': img.etag }));
    await expectUnchanged(now);
    const ok = await putImage(img.path, png(700), base, 'image/png', { 'If-Match': `"nope", ${replaced.etag}` });
    expect(ok.status).toBe(201);
    expect((await env.FILES.head(keyOf(img.path)))!.size).toBe(700);
  });

  it('If-Match with a weak tag never matches (strong comparison, §8.8.3.2)', async () => {
    const img = await fresh();
    await expect412(await putImage(img.path, png(600), base, 'image/png', { 'If-Match': `W/${img.etag}` }));
    await expectUnchanged(img);
  });

  it('If-Match on a path with no image (a tag or "*"): 412 and nothing created', async () => {
    for (const value of ['*', '"0123456789abcdef"']) {
      const path = `cond/none-${++n}.png`;
      await expect412(await putImage(path, png(300), base, 'image/png', { 'If-Match': value }));
      expect(await env.FILES.head(keyOf(path))).toBeNull();
    }
  });

  it('If-None-Match: * on an existing image: 412 and unchanged; on a free path: created', async () => {
    const img = await fresh();
    await expect412(await putImage(img.path, png(600), base, 'image/png', { 'If-None-Match': '*' }));
    await expectUnchanged(img);
    const path = `cond/new-${++n}.png`;
    expect((await putImage(path, png(300), base, 'image/png', { 'If-None-Match': '*' })).status).toBe(201);
    expect((await env.FILES.head(keyOf(path)))!.size).toBe(300);
  });

  it('If-None-Match with the current tag (weak comparison): 412 and unchanged', async () => {
    const img = await fresh();
    for (const value of [img.etag, `W/${img.etag}`, `"x", ${img.etag}`]) {
      await expect412(await putImage(img.path, png(600), base, 'image/png', { 'If-None-Match': value }));
    }
    await expectUnchanged(img);
  });

  it('If-Unmodified-Since before the upload: 412 and unchanged; at its Last-Modified: replaced', async () => {
    const img = await fresh();
    await expect412(
      await putImage(img.path, png(600), base, 'image/png', { 'If-Unmodified-Since': earlier(img.uploaded) }),
    );
    await expectUnchanged(img);
    expect(
      (await putImage(img.path, png(650), base, 'image/png', { 'If-Unmodified-Since': img.lastModified })).status,
    ).toBe(201);
  });

  it('If-Match wins over If-Unmodified-Since (§13.1.4: ignored when If-Match is present)', async () => {
    const img = await fresh();
    const res = await putImage(img.path, png(600), base, 'image/png', {
      'If-Match': img.etag,
      'If-Unmodified-Since': earlier(img.uploaded),
    });
    expect(res.status).toBe(201);
  });

  it('answers 412 before reading the body (bytes that would be a 415 never get looked at)', async () => {
    const img = await fresh();
    await expect412(await putImage(img.path, jpeg(600), base, 'image/png', { 'If-None-Match': '*' }));
    await expectUnchanged(img);
  });

  it("someone else's image is 403 whatever the preconditions say (§13.2.1), and unchanged", async () => {
    const img = await fresh(); // owned by the client itself (client_credentials)
    const user = await userToken(client, await seedUser(), 'base'); // same client, another owner
    for (const headers of [{ 'If-Match': img.etag }, { 'If-Match': '"stale"' }, { 'If-None-Match': '*' }] as Record<
      string,
      string
    >[]) {
      const res = await putImage(img.path, png(600), user, 'image/png', headers);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).error).toBe('access_denied');
      const gone = await call(`/v1/img/${img.path}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${user}`, ...headers },
      });
      expect(gone.status).toBe(403);
    }
    await expectUnchanged(img);
  });

  it('a malformed If-Match or If-None-Match is 400 invalid_request, nothing stored', async () => {
    const img = await fresh();
    for (const [name, value] of [
      ['If-Match', 'abc'],
      ['If-None-Match', 'W/abc'],
      ['If-Match', ','],
    ]) {
      const res = await putImage(img.path, png(600), base, 'image/png', { [name]: value });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({
        error: 'invalid_request',
        description: expect.stringContaining(name),
      });
    }
    await expectUnchanged(img);
  });

  it('a change between the check and the write makes a guarded PUT 412 (the conditional put pins the version)', async () => {
    const img = await fresh();
    const first = png(2048);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let pulled!: () => void;
    const pulledOnce = new Promise<void>((r) => (pulled = r));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) {
          controller.enqueue(first.subarray(0, 1024));
          sent = 1;
          return;
        }
        pulled(); // the route has read the first KiB: its head and its check are done
        await gate;
        controller.enqueue(first.subarray(1024));
        controller.close();
      },
    });
    const pending = call(`/v1/img/${img.path}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${base}`,
        'Content-Type': 'image/png',
        'Content-Length': '2048',
        'If-Match': img.etag,
      },
      body,
      // @ts-expect-error workerd needs duplex for a streamed request body
      duplex: 'half',
    });
    await pulledOnce;
    // The owner's own concurrent write, straight to R2 (same ownership metadata, a new version).
    const original = (await env.FILES.head(keyOf(img.path)))!;
    const racing = png(999);
    await env.FILES.put(keyOf(img.path), racing, {
      httpMetadata: original.httpMetadata,
      customMetadata: original.customMetadata,
    });
    release();
    await expect412(await pending);
    const now = await env.FILES.get(keyOf(img.path));
    expect(new Uint8Array(await now!.arrayBuffer())).toEqual(racing);
  });
});

describe('GET and HEAD', () => {
  it('If-Match with the current tag (or a list holding it) serves the image; a stale or weak tag is 412', async () => {
    const img = await fresh();
    for (const value of [img.etag, `"x", ${img.etag}`, '*']) {
      const res = await getImage(img.path, base, { headers: { 'If-Match': value } });
      expect(res.status, value).toBe(200);
      expect(await bytesOf(res)).toEqual(img.bytes);
    }
    for (const value of ['"stale"', `W/${img.etag}`, '"a", "b"'])
      await expect412(await getImage(img.path, base, { headers: { 'If-Match': value } }), 'GET');
    await expect412(await getImage(img.path, base, { headers: { 'If-Match': '"stale"' }, method: 'HEAD' }), 'HEAD');
  });

  it('If-Unmodified-Since: before the upload 412, at its Last-Modified 200', async () => {
    const img = await fresh();
    await expect412(
      await getImage(img.path, base, { headers: { 'If-Unmodified-Since': earlier(img.uploaded) } }),
      'GET',
    );
    const ok = await getImage(img.path, base, { headers: { 'If-Unmodified-Since': img.lastModified } });
    expect(ok.status).toBe(200);
    expect(await bytesOf(ok)).toEqual(img.bytes);
  });

  it('If-None-Match matching (a tag, a list, "*") is 304 with the validators, as before; If-Match is checked first', async () => {
    const img = await fresh();
    for (const headers of [
      { 'If-None-Match': img.etag },
      { 'If-None-Match': `"x", W/${img.etag}` },
      { 'If-None-Match': '*' },
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await getImage(img.path, base, { headers, method });
        expect(res.status, JSON.stringify(headers)).toBe(304);
        expect(res.headers.get('ETag')).toBe(img.etag);
        expect(res.headers.get('Last-Modified')).toBe(img.lastModified);
        expect((await bytesOf(res)).length).toBe(0);
      }
    }
    await expect412(
      await getImage(img.path, base, { headers: { 'If-Match': '"stale"', 'If-None-Match': img.etag } }),
      'GET',
    );
  });

  it('a Range with a true If-Match is served as 206; with a false one 412', async () => {
    const img = await fresh();
    const ok = await getImage(img.path, base, { headers: { 'If-Match': img.etag, Range: 'bytes=0-9' } });
    expect(ok.status).toBe(206);
    expect(await bytesOf(ok)).toEqual(img.bytes.subarray(0, 10));
    await expect412(await getImage(img.path, base, { headers: { 'If-Match': '"stale"', Range: 'bytes=0-9' } }), 'GET');
  });

  it('a missing image, or one the token may not read, is 404 whatever the preconditions (§13.2.1)', async () => {
    const img = await fresh();
    for (const [path, token] of [
      ['cond/missing.png', base],
      [img.path, other],
    ] as const) {
      const res = await getImage(path, token, { headers: { 'If-Match': '*' } });
      expect(res.status).toBe(404);
      expect((await errorOf(res)).error).toBe('invalid_request');
    }
  });
});

describe('DELETE', () => {
  const del = (path: string, headers: Record<string, string>) =>
    call(`/v1/img/${path}`, { method: 'DELETE', headers: { Authorization: `Bearer ${base}`, ...headers } });

  it('a stale If-Match, If-None-Match: * or an earlier If-Unmodified-Since: 412 and the image is still there', async () => {
    const img = await fresh();
    for (const headers of [
      { 'If-Match': '"stale"' },
      { 'If-Match': `W/${img.etag}` },
      { 'If-None-Match': '*' },
      { 'If-None-Match': img.etag },
      { 'If-Unmodified-Since': earlier(img.uploaded) },
    ] as Record<string, string>[]) {
      await expect412(await del(img.path, headers), 'DELETE');
      await expectUnchanged(img);
    }
  });

  it('a true If-Match or If-Unmodified-Since deletes', async () => {
    type Fresh = Awaited<ReturnType<typeof fresh>>;
    for (const make of [
      (i: Fresh) => ({ 'If-Match': i.etag }),
      (i: Fresh) => ({ 'If-Unmodified-Since': i.lastModified }),
    ]) {
      const img = await fresh();
      const res = await del(img.path, make(img));
      expect(res.status).toBe(204);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      expect(await env.FILES.head(keyOf(img.path))).toBeNull();
    }
  });

  it('a missing image is 404 even with If-Match: *', async () => {
    const res = await del('cond/never-there.png', { 'If-Match': '*' });
    expect(res.status).toBe(404);
  });
});
