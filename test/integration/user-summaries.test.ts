/**
 * The cached user summary of GET /v1/me (src/storage/user-summaries.ts, issue 17): a status change is seen at once in
 * the isolate and colo that made it; KV failing falls back to D1; the cached copy never holds the password hash.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setUserStatus } from '../../src/services/user-account';
import { forgetUserSummariesInIsolate, getUserSummary } from '../../src/storage/user-summaries';
import { type Counts, countingEnv } from '../counting-env';
import { seedUser } from '../helpers';

const fresh = (): Counts => ({ d1: 0, kv: 0, r2: 0, calls: [] });

describe('user summaries (GET /v1/me)', () => {
  beforeEach(() => forgetUserSummariesInIsolate());

  it('a status change through setUserStatus is seen at once, in the isolate and in KV', async () => {
    const user = await seedUser();
    expect((await getUserSummary(env.DB, env.CACHE, user.id))?.status).toBe('active');
    await setUserStatus(env, user.id, 'disabled');
    expect((await getUserSummary(env.DB, env.CACHE, user.id))?.status).toBe('disabled');
    forgetUserSummariesInIsolate(); // another isolate of this colo: the KV copy was dropped too
    expect((await getUserSummary(env.DB, env.CACHE, user.id))?.status).toBe('disabled');
    await setUserStatus(env, user.id, 'active');
    expect((await getUserSummary(env.DB, env.CACHE, user.id))?.status).toBe('active');
  });

  it('a cold isolate reads the KV copy (no D1); the copy holds only id, e-mail and status', async () => {
    const user = await seedUser();
    await getUserSummary(env.DB, env.CACHE, user.id);
    forgetUserSummariesInIsolate();
    const counts = fresh();
    const e = countingEnv(counts);
    expect(await getUserSummary(e.DB, e.CACHE, user.id)).toEqual({ id: user.id, email: user.email, status: 'active' });
    expect(counts.calls).toEqual(['KV.get']);
    expect(Object.keys((await env.CACHE.get(`user:${user.id}`, 'json')) as object).sort()).toEqual([
      'email',
      'id',
      'status',
    ]);
  });

  it('KV failing: read from D1, the failed fill only a warning', async () => {
    const user = await seedUser();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const counts = fresh();
    const e = countingEnv(counts, { failKv: true });
    expect((await getUserSummary(e.DB, e.CACHE, user.id))?.email).toBe(user.email);
    expect(counts.calls).toEqual(['KV.get', 'D1.first', 'KV.put']);
  });

  it('an unknown id is null and not cached', async () => {
    expect(await getUserSummary(env.DB, env.CACHE, 'usr_nobody')).toBeNull();
    expect(await env.CACHE.get('user:usr_nobody')).toBeNull();
  });
});
