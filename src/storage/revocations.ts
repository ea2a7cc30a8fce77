/**
 * The access-token deny-list. D1 is the source of truth (introspection reads it directly, so a revocation
 * is honoured there at once); protected routes use an in-isolate snapshot refreshed at most every
 * SNAPSHOT_SECONDS, so verifying a token costs no storage read in steady state and a revocation
 * reaches every route within SNAPSHOT_SECONDS (< 60 s). Issue 17: the snapshot a (cold) isolate loads comes from
 * a KV copy stamped with its D1 read while that stamp is younger than SNAPSHOT_SECONDS, so the bound stays the
 * same: every snapshot in use was read from D1 less than SNAPSHOT_SECONDS ago (src/storage/stamped-copy.ts).
 */
import { clock, nowSeconds } from '../lib/clock';
import { type AccessTokenClaims, CLOCK_TOLERANCE } from '../oauth/access-token-claims';
import { dropStampedCopy, freshCopy, type RawCopy, readStampedCopy, writeStampedCopy } from './stamped-copy';

/** KV key of the deny-list copy: the live rows as `[kind, value, created_at, expires_at]` (docs/storage-schema.md). */
export const REVOCATIONS_COPY_KEY = 'revocations:live';
type Row = [kind: RevocationKind, value: string, created_at: number, expires_at: number];

export const SNAPSHOT_SECONDS = 30;
/** After a failed reload, how soon the next request tries again (the last good copy serves meanwhile). */
export const SNAPSHOT_RETRY_SECONDS = 5;
export type RevocationKind = 'jti' | 'client' | 'user' | 'family';

interface Snapshot {
  loadedAt: number;
  jti: Set<string>;
  /** `fid` of revoked grants (refresh-token families, code grants): every access token carrying one is revoked. */
  family: Set<string>;
  /** client_id / user_id → tokens issued at or before this time are revoked. */
  client: Map<string, number>;
  user: Map<string, number>;
}

let snapshot: Snapshot | null = null;
/** The next load skips the KV copy: this isolate just recorded a revocation (it must see it at once). */
let nextFromD1 = false;

/**
 * Records a revocation. `until` is when every covered token has expired (the token's `exp` for a jti); the row is
 * kept CLOCK_TOLERANCE longer, since verification still accepts a token that long after its `exp`.
 * Re-revoking moves created_at forward.
 */
export async function revoke(db: D1Database, kind: RevocationKind, value: string, until: number): Promise<void> {
  await revokeStatement(db, kind, value, until).run();
  resetRevocationSnapshot(); // this isolate sees its own revocation at once
}

/**
 * After a revocation is committed to D1: this isolate's next check reads D1 (so it sees it at once, and rewrites the
 * KV copy), and the KV copy is dropped so this colo's other isolates read D1 on their next load too. Colos that
 * still serve the old copy use it only while its stamp is younger than SNAPSHOT_SECONDS: the bound holds without
 * the drop, which is why a failed drop is only a warning.
 */
export async function revocationsChanged(kv: KVNamespace): Promise<void> {
  resetRevocationSnapshot();
  await dropStampedCopy(kv, REVOCATIONS_COPY_KEY);
}

/** The statement of `revoke`, for a caller that batches it with other writes (then call resetRevocationSnapshot). */
export function revokeStatement(
  db: D1Database,
  kind: RevocationKind,
  value: string,
  until: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO revocations (kind, value, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (kind, value) DO UPDATE SET created_at = ?3, expires_at = MAX(expires_at, ?4)`,
    )
    .bind(kind, value, nowSeconds(), until + CLOCK_TOLERANCE);
}

/**
 * When a family revoked now stops needing its deny-list row: no access token is issued from a revoked family, so the
 * last one alive was issued at the latest now and expires one access-token lifetime later (plus the verifier's
 * CLOCK_TOLERANCE, added by the statements). Pass this as `until` for kind 'family'.
 */
export function familyDenyUntil(accessTokenTtl: number): number {
  return nowSeconds() + accessTokenTtl;
}

/**
 * Deny-lists, as kind 'family', every family id that `selectFamilies` (SQL returning the family ids as column `fid`,
 * with its own numbered parameters from ?3 on) yields; ?1 = now, ?2 = until. One statement, to be batched with the write
 * that revokes the families' refresh tokens (issue 10 item 4: revocation reaches the grant's access tokens).
 */
export function revokeFamiliesStatement(
  db: D1Database,
  selectFamilies: string,
  until: number,
  ...params: unknown[]
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO revocations (kind, value, created_at, expires_at)
       SELECT DISTINCT 'family', fid, ?1, ?2 FROM (${selectFamilies}) WHERE fid IS NOT NULL
       ON CONFLICT (kind, value) DO UPDATE SET created_at = ?1, expires_at = MAX(expires_at, ?2)`,
    )
    .bind(nowSeconds(), until + CLOCK_TOLERANCE, ...params);
}

/** Revokes every access token issued so far to a client or for a user (deleted/disabled), as a statement for the service that batches it (then call revocationsChanged): they live at most one TTL. */
export function revokeTokensOfStatement(
  db: D1Database,
  kind: 'client' | 'user',
  id: string,
  accessTokenTtl: number,
): D1PreparedStatement {
  return revokeStatement(db, kind, id, nowSeconds() + accessTokenTtl);
}

function covers(s: Pick<Snapshot, 'jti' | 'family' | 'client' | 'user'>, claims: AccessTokenClaims): boolean {
  if (s.jti.has(claims.jti)) return true;
  if (claims.fid !== undefined && s.family.has(claims.fid)) return true;
  const c = s.client.get(claims.client_id);
  if (c !== undefined && claims.iat <= c) return true;
  const u = s.user.get(claims.sub);
  return u !== undefined && claims.iat <= u;
}

/**
 * The snapshot from the KV copy when one younger than SNAPSHOT_SECONDS exists (no D1 round trip), else from D1 (one
 * read), which rewrites the copy. `loadedAt` is the D1 read's start either way: the snapshot expires
 * SNAPSHOT_SECONDS after it, wherever it came from.
 */
async function load(db: D1Database, kv: KVNamespace, fromD1: boolean, prefetched?: RawCopy): Promise<Snapshot> {
  const maxAge = SNAPSHOT_SECONDS * 1000;
  const copy = fromD1
    ? null
    : prefetched !== undefined
      ? freshCopy<Row[]>(prefetched, maxAge)
      : await readStampedCopy<Row[]>(kv, REVOCATIONS_COPY_KEY, maxAge);
  if (copy) return snapshotOf(copy.at, copy.value);
  const at = clock.now();
  const rows = await db
    .prepare('SELECT kind, value, created_at, expires_at FROM revocations WHERE expires_at > ?1')
    .bind(nowSeconds())
    .raw<Row>();
  await writeStampedCopy(kv, REVOCATIONS_COPY_KEY, at, rows);
  return snapshotOf(at, rows);
}

function snapshotOf(loadedAt: number, rows: Row[]): Snapshot {
  const now = nowSeconds();
  const s: Snapshot = { loadedAt, jti: new Set(), family: new Set(), client: new Map(), user: new Map() };
  for (const [kind, value, created_at, expires_at] of rows) {
    if (expires_at > now) add(s, { kind, value, created_at });
  }
  return s;
}

function add(
  s: Pick<Snapshot, 'jti' | 'family' | 'client' | 'user'>,
  r: { kind: RevocationKind; value: string; created_at: number },
): void {
  if (r.kind === 'jti' || r.kind === 'family') s[r.kind].add(r.value);
  else s[r.kind].set(r.value, r.created_at);
}

/**
 * Whether a verified token is revoked, from the in-isolate snapshot (one KV or D1 read per 30 s per isolate).
 * A failed KV read falls back to D1 (stamped-copy.ts); a failed D1 read keeps the last good snapshot.
 */
export async function isRevokedCached(
  db: D1Database,
  kv: KVNamespace,
  claims: AccessTokenClaims,
  prefetched?: RawCopy,
): Promise<boolean> {
  if (snapshotDue()) {
    // Each request loads for itself: an in-flight D1 call belongs to the request that started it, and
    // awaiting it from another request makes workerd fail that request ("Cannot perform I/O on behalf of a
    // different request"). At most the requests of the same instant load twice, once per SNAPSHOT_SECONDS.
    try {
      snapshot = await load(db, kv, nextFromD1, prefetched);
      nextFromD1 = false;
    } catch (err) {
      // Issue 16: D1 unavailable keeps the last good copy and retries after SNAPSHOT_RETRY_SECONDS
      // (docs/reliability.md: why that staleness is the right trade). With no copy yet, the request fails (503).
      if (!snapshot) throw err;
      snapshot.loadedAt = clock.now() - (SNAPSHOT_SECONDS - SNAPSHOT_RETRY_SECONDS) * 1000;
      console.error(
        JSON.stringify({ level: 'error', event: 'revocations_load_failed', message: String(err).slice(0, 200) }),
      );
    }
  }
  return covers(snapshot!, claims); // loaded above, or the load threw
}

function snapshotDue(): boolean {
  return !snapshot || clock.now() - snapshot.loadedAt >= SNAPSHOT_SECONDS * 1000;
}

/** Whether the next isRevokedCached would read the KV copy (none or due, not forced to D1): lets a caller prefetch it. */
export function snapshotWantsCopy(): boolean {
  return !nextFromD1 && snapshotDue();
}

/** Whether a verified token is revoked, read from D1 now (introspection: honoured at once). */
export async function isRevokedNow(db: D1Database, claims: AccessTokenClaims): Promise<boolean> {
  const { results } = await db
    .prepare(
      `SELECT kind, value, created_at FROM revocations
        WHERE (kind = 'jti' AND value = ?1) OR (kind = 'client' AND value = ?2) OR (kind = 'user' AND value = ?3)
           OR (kind = 'family' AND value = ?4)`,
    )
    .bind(claims.jti, claims.client_id, claims.sub, claims.fid ?? null)
    .all<{ kind: RevocationKind; value: string; created_at: number }>();
  const s = {
    jti: new Set<string>(),
    family: new Set<string>(),
    client: new Map<string, number>(),
    user: new Map<string, number>(),
  };
  for (const r of results) add(s, r);
  return covers(s, claims);
}

/** After a revocation (and for tests): forget the snapshot; the next check reads D1, not the KV copy. */
export function resetRevocationSnapshot(): void {
  snapshot = null;
  nextFromD1 = true;
}

/** Bench and test hook: forget the snapshot as a new isolate would (the next check may use the KV copy). */
export function forgetRevocationSnapshotInIsolate(): void {
  snapshot = null;
  nextFromD1 = false;
}
