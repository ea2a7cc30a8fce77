/**
 * src/storage/read-through.ts, the one cache of client records and user summaries, on its own: real D1 and KV, a
 * failing binding is the real one behind test/faults/harness.ts's Proxy.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomId } from '../../src/lib/random';
import { readThrough } from '../../src/storage/read-through';
import { failing } from '../faults/fault-env';
import { quickUser } from '../faults/fixtures';

interface Row {
  id: string;
  email: string;
}

const load = (db: D1Database, id: string) =>
  db.prepare('SELECT id, email FROM users WHERE id = ?1').bind(id).first<Row>();

function cache(extra: { missTtlSeconds?: number; memoryMaxEntries?: number } = {}) {
  const prefix = `rt-${randomId('t', 6)}:`;
  return {
    prefix,
    c: readThrough<Row>({
      prefix,
      load,
      memoryTtlMs: 30_000,
      memoryMaxEntries: extra.memoryMaxEntries ?? 10,
      copyTtlSeconds: 300,
      missTtlSeconds: extra.missTtlSeconds,
      readFailed: 'rt_read_failed',
      writeFailed: 'rt_write_failed',
    }),
  };
}

const broken = failing('d1', 'kv');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('read-through cache', () => {
  it('fills the KV copy and the isolate copy from the loader; the isolate copy then needs no storage', async () => {
    const { prefix, c } = cache();
    const user = await quickUser();
    expect(await c.get(env.DB, env.CACHE, user.id)).toEqual({ id: user.id, email: user.email });
    expect(await env.CACHE.get(prefix + user.id, 'json')).toEqual({ id: user.id, email: user.email });
    // Every D1 and KV call now fails: the isolate copy answers.
    expect(await c.get(broken.DB, broken.CACHE, user.id)).toEqual({ id: user.id, email: user.email });
  });

  it('a failing loader is never cached, not even as a miss', async () => {
    const { prefix, c } = cache({ missTtlSeconds: 60 });
    const user = await quickUser();
    await expect(c.get(failing('d1').DB, env.CACHE, user.id)).rejects.toThrow(/D1_ERROR/);
    expect(await env.CACHE.get(prefix + user.id)).toBeNull();
    expect((await c.get(env.DB, env.CACHE, user.id))?.email).toBe(user.email);
  });

  it('a failed KV read falls back to the loader, a failed fill is a warning, both under the given names', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { prefix, c } = cache();
    const user = await quickUser();
    expect((await c.get(env.DB, failing('kv').CACHE, user.id))?.email).toBe(user.email);
    const events = warn.mock.calls.map(([line]) => (JSON.parse(String(line)) as { event: string }).event);
    expect(events).toEqual(['rt_read_failed', 'rt_write_failed']);
    expect(await env.CACHE.get(prefix + user.id)).toBeNull();
  });

  it('a miss: cached (KV marker, isolate) when missTtlSeconds is set, not at all otherwise', async () => {
    const id = randomId('usr', 16);
    const caching = cache({ missTtlSeconds: 60 });
    expect(await caching.c.get(env.DB, env.CACHE, id)).toBeNull();
    expect(await env.CACHE.get(caching.prefix + id, 'json')).toEqual({ missing: true });
    expect(await caching.c.get(broken.DB, broken.CACHE, id)).toBeNull();
    expect(await caching.c.storedCopy(env.CACHE, id)).toBeNull();

    const plain = cache();
    expect(await plain.c.get(env.DB, env.CACHE, id)).toBeNull();
    expect(await env.CACHE.get(plain.prefix + id)).toBeNull();
    await expect(plain.c.get(failing('d1').DB, env.CACHE, id)).rejects.toThrow(/D1_ERROR/);
  });

  it('a KV copy of another id is not taken for this one', async () => {
    const { prefix, c } = cache();
    const user = await quickUser();
    await env.CACHE.put(prefix + user.id, JSON.stringify({ id: 'usr_other', email: 'other@example.com' }));
    expect(await c.get(env.DB, env.CACHE, user.id)).toEqual({ id: user.id, email: user.email });
  });

  it('the isolate copy is bounded: the oldest entry goes first', async () => {
    const { c } = cache({ memoryMaxEntries: 2 });
    const [a, b, d] = [await quickUser(), await quickUser(), await quickUser()];
    for (const u of [a, b, d]) await c.get(env.DB, env.CACHE, u.id);
    await expect(c.get(broken.DB, broken.CACHE, a.id)).rejects.toThrow(/D1_ERROR/);
    expect((await c.get(broken.DB, broken.CACHE, d.id))?.email).toBe(d.email);
  });

  it('invalidate drops both copies; forgetInIsolate only this isolate’s', async () => {
    const { prefix, c } = cache();
    const user = await quickUser();
    await c.get(env.DB, env.CACHE, user.id);
    c.forgetInIsolate();
    expect(await env.CACHE.get(prefix + user.id)).not.toBeNull();
    await expect(c.get(failing('kv', 'd1').DB, failing('kv', 'd1').CACHE, user.id)).rejects.toThrow(/D1_ERROR/);
    expect((await c.get(failing('d1').DB, env.CACHE, user.id))?.email).toBe(user.email); // from the KV copy
    await c.invalidate(env.CACHE, user.id);
    expect(await env.CACHE.get(prefix + user.id)).toBeNull();
    await expect(c.get(failing('d1').DB, env.CACHE, user.id)).rejects.toThrow(/D1_ERROR/);
  });
});
