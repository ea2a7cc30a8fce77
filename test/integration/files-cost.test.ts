/**
 * Round trips of one image GET from R2, counted on the real bindings: exactly one R2 call and no D1 or KV call
 * once the isolate is warm (the deny-list snapshot loads at most once per 30 s per isolate). Measured with the edge
 * cache off (IMAGE_EDGE_CACHE_SECONDS=0), which is also every cache miss; the cached path (0 R2 calls) is
 * test/integration/files-edge-cache.test.ts.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { bytesOf, clientToken, png, uploaded } from '../files-fixtures';
import { ORIGIN, seedClient } from '../helpers';

type Counted = 'DB' | 'CACHE' | 'FILES';
const calls: Record<Counted, string[]> = { DB: [], CACHE: [], FILES: [] };

/** Wraps a binding so that every method called on it is recorded (the real binding still does the work). */
function counting<T extends object>(name: Counted, binding: T): T {
  return new Proxy(binding, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[name].push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const wrapped: Record<Counted, object> = {
  DB: counting('DB', env.DB),
  CACHE: counting('CACHE', env.CACHE),
  FILES: counting('FILES', env.FILES),
};
const countingEnv = new Proxy(env, {
  get: (target, prop) =>
    prop === 'IMAGE_EDGE_CACHE_SECONDS'
      ? '0'
      : typeof prop === 'string' && prop in wrapped
        ? wrapped[prop as Counted]
        : Reflect.get(target, prop),
}) as Env;

async function fetchCounted(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), countingEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

let token: string;
const bytes = png(20_000);

beforeAll(async () => {
  const client = await seedClient();
  token = await clientToken(client, 'files');
  await uploaded('cost/a.png', bytes, await clientToken(client, 'upload_files'));
  // Warm-up: the key ring for this env object and the deny-list snapshot, from their KV copies (one bulk get) or,
  // without a fresh copy, from D1 (one read each), which writes the copies (issue 17).
  const warm = await fetchCounted(`/v1/img/cost/a.png?access_token=${token}`);
  expect(warm.status).toBe(200);
  await warm.arrayBuffer();
  expect(calls.DB.length).toBeLessThanOrEqual(2);
  expect(calls.CACHE.filter((c) => c !== 'get' && c !== 'put')).toEqual([]);
});

beforeEach(() => {
  for (const k of Object.keys(calls) as Counted[]) calls[k] = [];
});

describe('image GET cost in steady state, edge cache off', () => {
  it('is exactly one R2 get and no D1 or KV call', async () => {
    const res = await fetchCounted(`/v1/img/cost/a.png?access_token=${token}`);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(bytes);
    expect(calls).toEqual({ DB: [], CACHE: [], FILES: ['get'] });
  });

  it('is one R2 call for a 304, a 412, a 206, a HEAD and a 404 too', async () => {
    const first = await fetchCounted(`/v1/img/cost/a.png?access_token=${token}`);
    const etag = first.headers.get('ETag')!;
    await first.arrayBuffer();
    calls.FILES = [];
    const cases: [string, RequestInit, number][] = [
      ['cost/a.png', { headers: { 'If-None-Match': etag } }, 304],
      ['cost/a.png', { headers: { 'If-Match': '"stale"' } }, 412],
      ['cost/a.png', { headers: { 'If-Match': `"x", ${etag}` } }, 200], // a list: evaluated on what the one get returned
      ['cost/a.png', { headers: { Range: 'bytes=0-99' } }, 206],
      ['cost/a.png', { method: 'HEAD' }, 200],
      ['cost/missing.png', {}, 404],
    ];
    for (const [path, init, status] of cases) {
      const res = await fetchCounted(`/v1/img/${path}?access_token=${token}`, init);
      expect(res.status, `${status}`).toBe(status);
      await res.arrayBuffer();
      expect(calls, `${status}`).toEqual({ DB: [], CACHE: [], FILES: ['get'] });
      calls.FILES = [];
    }
  });

  it('costs no storage call at all when the token is refused', async () => {
    const res = await fetchCounted('/v1/img/cost/a.png?access_token=not.a.jwt');
    expect(res.status).toBe(401);
    expect(calls).toEqual({ DB: [], CACHE: [], FILES: [] });
  });
});
