/**
 * Who a user token is for, as `GET /v1/me` answers it: the user's id, e-mail and status, cached in front of D1 the way
 * client records are (the same read-through.ts): an in-isolate copy for 30 s, a KV copy for 5 minutes read with
 * `cacheTtl: 60`. Issue 17: in a far colo the D1 read of the user row was the only D1 round trip of a warm `/v1/me`
 * (150 ms in the latency model, docs/benchmarks.md).
 *
 * Only this projection is cached, never the row: the password hash and the profile claims stay in D1 (UserInfo
 * reads D1 anyway, for the deny-list at once). Staleness: an e-mail never changes (no operation changes it); a status
 * change drops both copies in the operation (src/services/user-account.ts), so this colo sees it at once, and other
 * colos within KV's edge cache (60 s). Disabling is enforced elsewhere first: the user's tokens are on the deny-list
 * (`user` entry, within its 30 s bound, docs/security.md) and no new token is issued to a disabled user; so the
 * status here is defence in depth, and a user enabled again may see `invalid_token` in another colo for up to 60 s.
 */
import { readThrough } from './read-through';

export interface UserSummary {
  id: string;
  email: string;
  status: 'active' | 'disabled';
}

const cache = readThrough<UserSummary>({
  prefix: 'user:',
  load: async (db, id) => {
    const row = await db.prepare('SELECT id, email, status FROM users WHERE id = ?1').bind(id).first<UserSummary>();
    return row && { id: row.id, email: row.email, status: row.status };
  },
  memoryTtlMs: 30_000,
  memoryMaxEntries: 1000,
  copyTtlSeconds: 300,
  // No missTtlSeconds: an unknown id is not cached. User ids come only from tokens we signed, so a miss is rare and
  // never an attack lever.
  readFailed: 'user_cache_read_failed',
  writeFailed: 'user_cache_write_failed',
});

/** The user's summary through the isolate copy, then KV, then D1 (which fills both); null for no such user (not cached). */
export const getUserSummary: (db: D1Database, kv: KVNamespace, id: string) => Promise<UserSummary | null> = cache.get;

/** Drops the cached copies (this isolate's and KV's); call after a change to what the summary holds (the status). */
export const invalidateUserSummary: (kv: KVNamespace, id: string) => Promise<void> = cache.invalidate;

/** Tests and the bench's cold isolate: forget this isolate's copies. */
export const forgetUserSummariesInIsolate: () => void = cache.forgetInIsolate;
