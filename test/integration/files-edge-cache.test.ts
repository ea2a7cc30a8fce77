/**
 * Image GET from the colo's edge cache (issue 17, src/files/edge-cache.ts), on the real Cache API and R2 of workerd:
 * a hit makes no R2 call, the token, its scope and the ownership rule are still decided on every request, a 304, 412,
 * 206 or HEAD from the cache is the very answer R2 would give, `private` and `no-referrer` are on every answer, and
 * a write or delete purges this colo's copy before it is acknowledged. R2 calls are counted as in files-cost.test.ts.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { cacheUrl } from '../../src/files/edge-cache';
import { bytesOf, clientToken, png, putImage, uploaded } from '../files-fixtures';
import { call, ORIGIN, seedClient } from '../helpers';

let r2Calls: string[] = [];
const files = new Proxy(env.FILES, {
  get(target, prop) {
    const value = Reflect.get(target, prop);
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      r2Calls.push(String(prop));
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
});
/** The real env with R2 counted, and IMAGE_EDGE_CACHE_SECONDS as given (each its own config object). */
const envWith = (cacheSeconds: string) =>
  new Proxy(env, {
    get: (target, prop) =>
      prop === 'FILES' ? files : prop === 'IMAGE_EDGE_CACHE_SECONDS' ? cacheSeconds : Reflect.get(target, prop),
  }) as Env;
const cached = envWith('60');
const uncached = envWith('0');

/** One request through the app, its waitUntil work (the cache put) finished before it returns. */
async function get(e: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Status, every header and the body: what a client sees. */
async function seen(res: Response) {
  const { 'x-request-id': _id, ...headers } = Object.fromEntries(res.headers);
  return { status: res.status, headers, body: [...(await bytesOf(res))] };
}

const bytes = png(20_000);
let filesA: string;
let uploadA: string;
let filesB: string;
/** A `base` token of client A: only the owner may delete. */
let owner: string;
const key = (path: string) => `c/${clientA}/${path}`;
let clientA: string;

beforeAll(async () => {
  const a = await seedClient();
  clientA = a.id;
  filesA = await clientToken(a, 'files');
  uploadA = await clientToken(a, 'upload_files');
  owner = await clientToken(a, 'base');
  filesB = await clientToken(await seedClient(), 'files');
  // Warm the isolate's key ring and deny-list snapshot for both envs, on an object no test reads.
  await uploaded('edge/warm.png', bytes, uploadA);
  for (const e of [cached, uncached])
    await (await get(e, `/v1/img/edge/warm.png?access_token=${filesA}`)).arrayBuffer();
});

beforeEach(() => {
  r2Calls = [];
});

describe('image GET from the edge cache', () => {
  it('reads R2 once on a miss, then serves the same answer with no R2 call, private and no-referrer both times', async () => {
    await uploaded('edge/a.png', bytes, uploadA);
    const miss = await seen(await get(cached, `/v1/img/edge/a.png?access_token=${filesA}`));
    expect(r2Calls).toEqual(['get']);
    r2Calls = [];
    const hit = await seen(await get(cached, `/v1/img/edge/a.png?access_token=${filesA}`));
    expect(r2Calls).toEqual([]);
    expect(miss.status).toBe(200);
    expect(miss.body).toEqual([...bytes]);
    expect(miss.headers['cache-control']).toBe('private');
    expect(miss.headers['referrer-policy']).toBe('no-referrer');
    expect(miss.headers['content-type']).toBe('image/png');
    expect(miss.headers['content-length']).toBe('20000');
    expect(hit).toEqual(miss);
    // The cached entry is keyed without the token and bounded by IMAGE_EDGE_CACHE_SECONDS (RFC 9111 §5.2.2.1).
    const entry = await caches.default.match(cacheUrl(env.ISSUER, key('edge/a.png')));
    expect(entry?.headers.get('Cache-Control')).toBe('max-age=60');
    await entry?.arrayBuffer();
  });

  it('still decides the token and its scope on a hit (401, 403 with no R2 call), and the namespace (404)', async () => {
    await uploaded('edge/b.png', bytes, uploadA);
    await (await get(cached, `/v1/img/edge/b.png?access_token=${filesA}`)).arrayBuffer();
    r2Calls = [];
    // Another client's token names its own namespace (c/<its client>/…): A's cached copy is never its answer.
    const other = await get(cached, `/v1/img/edge/b.png?access_token=${filesB}`);
    expect(other.status).toBe(404); // the same 404 as a missing image
    expect(await other.json()).toMatchObject({ error: 'invalid_request' });
    expect(r2Calls).toEqual(['get']);
    r2Calls = [];
    const bad = await get(cached, '/v1/img/edge/b.png?access_token=not.a.jwt');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    await bad.arrayBuffer();
    const scope = await get(cached, '/v1/img/edge/b.png', { headers: { Authorization: `Bearer ${uploadA}` } });
    expect(scope.status).toBe(403);
    expect(scope.headers.get('WWW-Authenticate')).toMatch(/error="insufficient_scope"/);
    await scope.arrayBuffer();
    expect(r2Calls).toEqual([]);
  });

  it('decides the ownership from the cached copy: an entry recorded for someone else is a 404, with no R2 call', async () => {
    // An entry whose recorded ownership is another user's through another client (as no upload of A could make).
    await caches.default.put(
      cacheUrl(env.ISSUER, key('edge/theirs.png')),
      new Response(bytes, {
        headers: {
          'Content-Type': 'image/png',
          'Content-Length': String(bytes.length),
          ETag: '"e1"',
          'Last-Modified': new Date().toUTCString(),
          'Cache-Control': 'max-age=60',
          'X-Image-Owner': 'usr_someone',
          'X-Image-Client': 'cl_someone',
        },
      }),
    );
    const res = await get(cached, `/v1/img/edge/theirs.png?access_token=${filesA}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    expect(r2Calls).toEqual([]);
  });

  it('answers 304, 412, 206 and HEAD from the cache exactly as from R2', async () => {
    await uploaded('edge/c.png', bytes, uploadA);
    const first = await get(cached, `/v1/img/edge/c.png?access_token=${filesA}`);
    const etag = first.headers.get('ETag')!;
    const lastModified = first.headers.get('Last-Modified')!;
    await first.arrayBuffer();
    const cases: [string, RequestInit, number][] = [
      ['If-None-Match', { headers: { 'If-None-Match': etag } }, 304],
      ['weak If-None-Match list', { headers: { 'If-None-Match': `"x", W/${etag}` } }, 304],
      ['If-Modified-Since', { headers: { 'If-Modified-Since': lastModified } }, 304],
      ['If-Match stale', { headers: { 'If-Match': '"stale"' } }, 412],
      ['If-Unmodified-Since past', { headers: { 'If-Unmodified-Since': 'Sat, 01 Jan 2000 00:00:00 GMT' } }, 412],
      ['If-Match list', { headers: { 'If-Match': `"x", ${etag}` } }, 200],
      ['Range', { headers: { Range: 'bytes=100-199' } }, 206],
      ['suffix Range', { headers: { Range: 'bytes=-10' } }, 206],
      ['open Range', { headers: { Range: 'bytes=19990-' } }, 206],
      ['Range with If-None-Match', { headers: { Range: 'bytes=0-9', 'If-None-Match': etag } }, 304],
      ['HEAD', { method: 'HEAD' }, 200],
    ];
    for (const [what, init, status] of cases) {
      r2Calls = [];
      const fromCache = await seen(await get(cached, `/v1/img/edge/c.png?access_token=${filesA}`, init));
      expect(r2Calls, what).toEqual([]);
      const fromR2 = await seen(await get(uncached, `/v1/img/edge/c.png?access_token=${filesA}`, init));
      expect(r2Calls, what).toEqual(['get']);
      expect(fromCache.status, what).toBe(status);
      expect(fromCache, what).toEqual(fromR2);
      expect(fromCache.headers['cache-control'], what).toBe(status === 412 ? 'no-store' : 'private');
      if (status !== 412) expect(fromCache.headers['referrer-policy'], what).toBe('no-referrer');
    }
    const range = await get(cached, `/v1/img/edge/c.png?access_token=${filesA}`, {
      headers: { Range: 'bytes=100-199' },
    });
    expect(range.headers.get('Content-Range')).toBe('bytes 100-199/20000');
    expect(await bytesOf(range)).toEqual(bytes.slice(100, 200));
  });

  it('an overwrite or a delete purges this colo’s copy before it is acknowledged', async () => {
    await uploaded('edge/d.png', bytes, uploadA);
    await (await get(cached, `/v1/img/edge/d.png?access_token=${filesA}`)).arrayBuffer();
    const newer = png(5_000);
    const put = await putImage('edge/d.png', newer, uploadA);
    expect(put.status).toBe(201);
    await put.arrayBuffer();
    r2Calls = [];
    const after = await get(cached, `/v1/img/edge/d.png?access_token=${filesA}`);
    expect(after.status).toBe(200);
    expect(await bytesOf(after)).toEqual(newer);
    expect(r2Calls).toEqual(['get']); // a miss: the old copy is gone
    const del = await call('/v1/img/edge/d.png', { method: 'DELETE', headers: { Authorization: `Bearer ${owner}` } });
    expect(del.status).toBe(204);
    r2Calls = [];
    const gone = await get(cached, `/v1/img/edge/d.png?access_token=${filesA}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'invalid_request' });
    expect(r2Calls).toEqual(['get']);
  });

  it('stores nothing with IMAGE_EDGE_CACHE_SECONDS=0, and the configured bound otherwise', async () => {
    await uploaded('edge/e.png', bytes, uploadA);
    await (await get(uncached, `/v1/img/edge/e.png?access_token=${filesA}`)).arrayBuffer();
    expect(await caches.default.match(cacheUrl(env.ISSUER, key('edge/e.png')))).toBeUndefined();
    await (await get(envWith('5'), `/v1/img/edge/e.png?access_token=${filesA}`)).arrayBuffer();
    const entry = await caches.default.match(cacheUrl(env.ISSUER, key('edge/e.png')));
    expect(entry?.headers.get('Cache-Control')).toBe('max-age=5');
    await entry?.arrayBuffer();
  });
});
