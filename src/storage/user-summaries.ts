/**
 * Who a user token is for, as `GET /v1/me` answers it: the user's id, e-mail and status, cached in front of D1 the way
 * client records are (src/storage/clients.ts): an in-isolate copy for 30 s, a KV copy for 5 minutes read with
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
import { clock } from '../lib/clock';
import { cacheWarning } from './cache-warning';

export interface UserSummary {
  id: string;
  email: string;
  status: 'active' | 'disabled';
}

const CACHE_TTL_SECONDS = 300;
const cacheKey = (id: string) => `user:${id}`;
const MEMORY_TTL_MS = 30_000;
const MEMORY_MAX_ENTRIES = 1000;
const memory = new Map<string, { user: UserSummary; until: number }>();

function remember(user: UserSummary): void {
  if (memory.size >= MEMORY_MAX_ENTRIES) memory.delete(memory.keys().next().value!);
  memory.set(user.id, { user, until: clock.now() + MEMORY_TTL_MS });
}

/** The user's summary through the isolate copy, then KV, then D1 (which fills both); null for no such user (not cached). */
export async function getUserSummary(db: D1Database, kv: KVNamespace, id: string): Promise<UserSummary | null> {
  const hot = memory.get(id);
  if (hot && hot.until > clock.now()) return hot.user;
  // KV is only a cache (issue 16, docs/reliability.md): a failed read falls back to D1, a failed fill is a warning.
  const cached = await kv
    .get<UserSummary>(cacheKey(id), { type: 'json', cacheTtl: 60 })
    .catch((err: unknown) => cacheWarning('user_cache_read_failed', err));
  if (cached?.id === id) {
    remember(cached);
    return cached;
  }
  const row = await db.prepare('SELECT id, email, status FROM users WHERE id = ?1').bind(id).first<UserSummary>();
  // An unknown id is not cached: user ids come only from tokens we signed, so a miss is rare and never an attack lever.
  if (!row) return null;
  const user: UserSummary = { id: row.id, email: row.email, status: row.status };
  await kv
    .put(cacheKey(id), JSON.stringify(user), { expirationTtl: CACHE_TTL_SECONDS })
    .catch((err: unknown) => cacheWarning('user_cache_write_failed', err));
  remember(user);
  return user;
}

/** Drops the cached copies (this isolate's and KV's); call after a change to what the summary holds (the status). */
export async function invalidateUserSummary(kv: KVNamespace, id: string): Promise<void> {
  memory.delete(id);
  await kv.delete(cacheKey(id));
}

/** Tests and the bench's cold isolate: forget this isolate's copies. */
export function forgetUserSummariesInIsolate(): void {
  memory.clear();
}
