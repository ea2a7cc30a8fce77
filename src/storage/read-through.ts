/**
 * A read-through cache of D1 reads keyed by id: a bounded in-isolate copy, then a KV JSON copy, then the loader (D1),
 * which fills both. Client records (clients.ts) and user summaries (user-summaries.ts) are its two users.
 *
 * The in-isolate copy lives `memoryTtlMs`, shorter than KV's edge cache (`cacheTtl: 60`), so it adds no staleness that
 * other isolates do not already see through KV. KV is only a cache (issue 16, docs/reliability.md): a failed read falls
 * back to the loader, a failed fill is a warning (cache-warning.ts). A failing loader throws before anything is
 * remembered, so a storage failure is never cached as "no such id". Invalidation is not soft: a change that cannot
 * drop the KV copy must say so (the storage guard answers 503).
 */
import { clock } from '../lib/clock';
import { cacheWarning } from './cache-warning';

export interface ReadThroughOptions<T> {
  /** The KV key is `${prefix}${id}`. */
  prefix: string;
  load: (db: D1Database, id: string) => Promise<T | null>;
  memoryTtlMs: number;
  memoryMaxEntries: number;
  /** expirationTtl of a KV copy; changes invalidate it explicitly, the TTL bounds any missed invalidation. */
  copyTtlSeconds: number;
  /**
   * expirationTtl of the KV marker for an unknown id (also remembered in the isolate), so a flood of bogus ids does
   * not reach D1; absent: a miss is not cached at all.
   */
  missTtlSeconds?: number;
  /** cacheWarning event names of a failed KV read and a failed KV write. */
  readFailed: string;
  writeFailed: string;
}

export interface ReadThrough<T> {
  /** The value through the isolate copy, then KV, then the loader; null for an unknown id. */
  get(db: D1Database, kv: KVNamespace, id: string): Promise<T | null>;
  /** The KV copy as stored (no edge cache, no soft failure), null when there is none or it is the miss marker. */
  storedCopy(kv: KVNamespace, id: string): Promise<T | null>;
  /** Drops this isolate's copy and the KV copy; call after every change to what the value holds. */
  invalidate(kv: KVNamespace, id: string): Promise<void>;
  /** Forgets this isolate's copies, as a new isolate (tests, the bench's cold isolate). */
  forgetInIsolate(): void;
}

/** The KV marker of an unknown id. */
const MISSING = { missing: true } as const;
type Copy<T> = T | typeof MISSING;
const isMissing = <T extends object>(copy: Copy<T>): copy is typeof MISSING => 'missing' in copy;

/** KV's shortest edge-cache lifetime: a copy read in this colo may be this old. */
const EDGE_TTL_SECONDS = 60;

export function readThrough<T extends { id: string }>(o: ReadThroughOptions<T>): ReadThrough<T> {
  const memory = new Map<string, { value: T | null; until: number }>();
  const cachesMiss = o.missTtlSeconds !== undefined;

  function remember(id: string, value: T | null): void {
    if (memory.size >= o.memoryMaxEntries) memory.delete(memory.keys().next().value!);
    memory.set(id, { value, until: clock.now() + o.memoryTtlMs });
  }

  return {
    async get(db, kv, id) {
      const hot = memory.get(id);
      if (hot && hot.until > clock.now()) return hot.value;
      const cached = await kv
        .get<Copy<T>>(o.prefix + id, { type: 'json', cacheTtl: EDGE_TTL_SECONDS })
        .catch((err: unknown) => cacheWarning(o.readFailed, err));
      if (cached) {
        if (isMissing(cached)) {
          if (cachesMiss) {
            remember(id, null);
            return null;
          }
        } else if (cached.id === id) {
          remember(id, cached);
          return cached;
        }
        // Anything else (a marker where misses are not cached, a copy of another shape) is read again from D1.
      }
      const value = await o.load(db, id);
      if (value === null && !cachesMiss) return null;
      await kv
        .put(o.prefix + id, JSON.stringify(value ?? MISSING), {
          expirationTtl: value === null ? o.missTtlSeconds! : o.copyTtlSeconds,
        })
        .catch((err: unknown) => cacheWarning(o.writeFailed, err));
      remember(id, value);
      return value;
    },

    async storedCopy(kv, id) {
      const cached = await kv.get<Copy<T>>(o.prefix + id, { type: 'json' });
      return !cached || isMissing(cached) ? null : cached;
    },

    async invalidate(kv, id) {
      memory.delete(id);
      await kv.delete(o.prefix + id);
    },

    forgetInIsolate() {
      memory.clear();
    },
  };
}
