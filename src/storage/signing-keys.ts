/**
 * Signing keys in D1 (table signing_keys), managed at run time by the admin API; see docs/operations.md.
 * Private keys are stored encrypted (src/lib/key-encryption.ts); public JWKs in clear for the JWKS.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningJwk } from '../config';
import { nowSeconds } from '../lib/clock';
import { sealJson } from '../lib/key-encryption';
import { randomToken } from '../lib/random';

export type KeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKeyRow {
  kid: string;
  alg: 'ES256' | 'EdDSA';
  state: KeyState;
  public_jwk: string;
  private_jwk_enc: string | null;
  created_at: number;
  activated_at: number | null;
  verify_until: number | null;
}

/** What the admin API shows of a key: never private material. */
export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: number;
  activated_at: number | null;
  verify_until: number | null;
}

export const toKeyInfo = (r: SigningKeyRow): SigningKeyInfo => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  created_at: r.created_at,
  activated_at: r.activated_at,
  verify_until: r.verify_until,
});

/** The keys the ring needs now: next, current, and previous ones still verifying. One D1 read. */
export async function loadLiveKeys(db: D1Database, now: number): Promise<SigningKeyRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM signing_keys
        WHERE state IN ('next', 'current') OR (state = 'previous' AND verify_until > ?1)
        ORDER BY CASE state WHEN 'current' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, created_at DESC`,
    )
    .bind(now)
    .all<SigningKeyRow>();
  return results;
}

export async function listSigningKeys(db: D1Database): Promise<SigningKeyInfo[]> {
  const { results } = await db
    .prepare('SELECT * FROM signing_keys ORDER BY created_at DESC LIMIT 100')
    .all<SigningKeyRow>();
  return results.map(toKeyInfo);
}

/**
 * Generates an ES256 key and stores it as 'next' (published, not signing), unless a 'next' key already
 * exists (one atomic INSERT … WHERE NOT EXISTS … RETURNING *: no row if one was already waiting). The statement is
 * returned for the service to batch with its audit row.
 */
export async function stageKeyStatement(
  db: D1Database,
  kek: Uint8Array,
): Promise<{ statement: D1PreparedStatement; kid: string }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `k${new Date(nowSeconds() * 1000).toISOString().slice(0, 10).replace(/-/g, '')}-${randomToken(6)}`;
  const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } as SigningJwk;
  const { d: _d, ...pub } = priv;
  const now = nowSeconds();
  const statement = db
    .prepare(
      `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at)
       SELECT ?1, 'ES256', 'next', ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'next')
       RETURNING *`,
    )
    .bind(kid, JSON.stringify({ ...pub, use: 'sig' }), await sealJson(kek, kid, priv), now);
  return { statement, kid };
}

/** Stages a key on its own (tests); the operation is src/services/key-rotation.ts. Null when one is already staged. */
export async function addNextKey(db: D1Database, kek: Uint8Array): Promise<SigningKeyInfo | null> {
  const row = await (await stageKeyStatement(db, kek)).statement.first<SigningKeyRow>();
  return row ? toKeyInfo(row) : null;
}

/**
 * Makes the waiting 'next' key current, if it was created at or before `publishedBefore`, in one batch:
 * 1. on the first promotion (no current key in D1 yet), records the bootstrap keys of the SIGNING_KEYS secret
 *    as 'previous' (public half only), so tokens they signed keep verifying until `verifyUntil`;
 * 2. the current key becomes 'previous' until `verifyUntil`;
 * 3. the next key becomes 'current'.
 * The last statement returns the promoted key id (RETURNING kid), or no row when no next key was ready.
 */
export function promoteKeyStatements(
  db: D1Database,
  input: { publishedBefore: number; verifyUntil: number; bootstrap: JWK[]; now: number },
): D1PreparedStatement[] {
  const now = input.now;
  const ready = `EXISTS (SELECT 1 FROM signing_keys WHERE state = 'next' AND created_at <= ?1)`;
  const stmts: D1PreparedStatement[] = input.bootstrap.map((jwk) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at, verify_until)
         SELECT ?2, ?3, 'previous', ?4, NULL, ?5, ?6
          WHERE ${ready} AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'current')`,
      )
      .bind(input.publishedBefore, jwk.kid, jwk.alg, JSON.stringify(jwk), now, input.verifyUntil),
  );
  stmts.push(
    db
      .prepare(`UPDATE signing_keys SET state = 'previous', verify_until = ?2 WHERE state = 'current' AND ${ready}`)
      .bind(input.publishedBefore, input.verifyUntil),
    db
      .prepare(
        `UPDATE signing_keys SET state = 'current', activated_at = ?2 WHERE state = 'next' AND created_at <= ?1 RETURNING kid`,
      )
      .bind(input.publishedBefore, now),
  );
  return stmts;
}

/** Promotes on its own (tests); the operation is src/services/key-rotation.ts. */
export async function promoteNextKey(
  db: D1Database,
  input: { publishedBefore: number; verifyUntil: number; bootstrap: JWK[] },
): Promise<string | null> {
  const results = await db.batch<{ kid: string }>(promoteKeyStatements(db, { ...input, now: nowSeconds() }));
  return results[results.length - 1].results[0]?.kid ?? null;
}

/** Retires previous keys whose tokens have all expired: out of the JWKS, private key erased (cron). */
export function retireExpiredKeysStatement(db: D1Database, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE signing_keys SET state = 'retired', private_jwk_enc = NULL WHERE state = 'previous' AND verify_until <= ?1`,
    )
    .bind(now);
}
