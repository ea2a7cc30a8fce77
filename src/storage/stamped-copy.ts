/**
 * A KV copy of a D1 read, stamped with the time the D1 read began (issue 17: a cold isolate needs no D1 round trip).
 * The stamp, not the time KV served the copy, is the copy's age: a reader trusts a copy only while it is younger
 * than the bound its cache already had in memory (key ring 60 s, deny-list 30 s), and keeps it in memory only until
 * that same bound from the stamp. So KV's own staleness (a write reaches other colos in up to ~60 s, a colo serves
 * its cached read for up to 60 s) can lower the hit rate but never lengthens the bound: every copy an isolate uses
 * was read from D1 less than the bound ago (plus the clock skew between Cloudflare's machines, milliseconds).
 *
 * KV is a cache here, never the truth: a failed read is a miss (the caller reads D1), a failed write or delete is a
 * warning (the stamp bounds whatever copy stays behind). The storage guard tags the KV error, but it is caught here,
 * so it never reaches the renderer as a 503.
 */
import { clock } from '../lib/clock';
import { cacheWarning } from './cache-warning';

interface Stamped<T> {
  /** clock.now() when the D1 read began, ms. */
  at: number;
  value: T;
}

/** A stamp further in the future than this is not skew but a bad copy (a test clock, a broken machine): ignored. */
const MAX_SKEW_MS = 5_000;

/** KV's minimum expirationTtl; readers check the stamp, the TTL only stops a dead copy from lingering. */
const COPY_TTL_SECONDS = 60;

/** A copy as read from KV, before its stamp is checked: what `readStampedCopies` hands to each cache. */
export type RawCopy = unknown;

/** The copy under `key` if one younger than `maxAgeMs` exists, with its stamp (never later than now); else null. */
export async function readStampedCopy<T>(
  kv: KVNamespace,
  key: string,
  maxAgeMs: number,
): Promise<{ at: number; value: T } | null> {
  let copy: RawCopy;
  try {
    copy = await kv.get(key, 'json');
  } catch (err) {
    return cacheWarning('stamped_copy_read_failed', err, key);
  }
  return freshCopy<T>(copy, maxAgeMs);
}

/**
 * Several copies in one KV round trip (a bulk get: one request to KV, each key billed as a read), for a cold
 * isolate's bearer check that needs both the ring and the deny-list. A failed read is a miss for every key.
 */
export async function readStampedCopies(kv: KVNamespace, keys: string[]): Promise<Map<string, RawCopy>> {
  try {
    return (await kv.get(keys, 'json')) as Map<string, RawCopy>;
  } catch (err) {
    cacheWarning('stamped_copy_read_failed', err, keys.join(','));
    return new Map(keys.map((k) => [k, null]));
  }
}

/** `copy` (as read from KV) if it is a stamped copy younger than `maxAgeMs`, its stamp never later than now; else null. */
export function freshCopy<T>(copy: RawCopy, maxAgeMs: number): { at: number; value: T } | null {
  const c = copy as Partial<Stamped<T>> | null;
  if (!c || typeof c.at !== 'number' || c.value === undefined) return null;
  const now = clock.now();
  if (c.at > now + MAX_SKEW_MS || now - c.at >= maxAgeMs) return null;
  return { at: Math.min(c.at, now), value: c.value };
}

/** Stores `value`, read from D1 at `at` (clock.now() taken before the read began). */
export async function writeStampedCopy<T>(kv: KVNamespace, key: string, at: number, value: T): Promise<void> {
  try {
    await kv.put(key, JSON.stringify({ at, value } satisfies Stamped<T>), { expirationTtl: COPY_TTL_SECONDS });
  } catch (err) {
    // KV allows one write per second per key: isolates of many colos refreshing at once may see 429 here.
    cacheWarning('stamped_copy_write_failed', err, key);
  }
}

/** Drops the copy, after a change to what it copies (this colo's next reader goes to D1 at once). */
export async function dropStampedCopy(kv: KVNamespace, key: string): Promise<void> {
  try {
    await kv.delete(key);
  } catch (err) {
    cacheWarning('stamped_copy_drop_failed', err, key);
  }
}
