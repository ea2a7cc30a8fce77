/**
 * Signing keys in D1 (table signing_keys), managed at run time by the admin API; see docs/operations.md.
 * Private keys are stored encrypted (src/lib/key-encryption.ts); public JWKs in clear for the JWKS.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningAlg, SigningJwk } from '../config';
import { nowSeconds } from '../lib/clock';
import { sealJson } from '../lib/key-encryption';
import { randomToken } from '../lib/random';

export type KeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKeyRow {
  kid: string;
  alg: SigningAlg;
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

/**
 * The KV copy of `loadLiveKeys`'s rows (issue 17), for a cold isolate's ring: the rows as D1 holds them, so the
 * private halves stay AES-GCM sealed under KEY_ENCRYPTION_KEY (`private_jwk_enc`); never a plaintext key in KV.
 * Stamped with its D1 read (src/storage/stamped-copy.ts); dropped by key rotation.
 */
export const KEY_RING_COPY_KEY = 'keyring:live';

export async function listSigningKeys(db: D1Database): Promise<SigningKeyInfo[]> {
  const { results } = await db
    .prepare('SELECT * FROM signing_keys ORDER BY created_at DESC LIMIT 100')
    .all<SigningKeyRow>();
  return results.map(toKeyInfo);
}

async function newKey(alg: SigningAlg): Promise<{ kid: string; priv: SigningJwk; pub: string }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `k${new Date(nowSeconds() * 1000).toISOString().slice(0, 10).replace(/-/g, '')}-${randomToken(6)}`;
  const priv = { ...(await exportJWK(privateKey)), kid, alg } as SigningJwk;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = priv;
  return { kid, priv, pub: JSON.stringify({ ...pub, use: 'sig' }) };
}

/**
 * Generates an ES256 key (access tokens) and an RS256 key (ID tokens, OpenID Connect Core §15.1) and stores them as
 * 'next' (published, not signing), unless a 'next' key already exists (atomic INSERT … WHERE NOT EXISTS … RETURNING *:
 * no row if one was already waiting; the RS256 key goes in only beside the ES256 key just inserted). The statements
 * are returned for the service to batch with its audit row; the first returns the ES256 row.
 */
export async function stageKeyStatement(
  db: D1Database,
  kek: Uint8Array,
): Promise<{ statement: D1PreparedStatement; rsaStatement: D1PreparedStatement; kid: string }> {
  const es = await newKey('ES256');
  const rs = await newKey('RS256');
  const now = nowSeconds();
  const statement = db
    .prepare(
      `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at)
       SELECT ?1, 'ES256', 'next', ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'next')
       RETURNING *`,
    )
    .bind(es.kid, es.pub, await sealJson(kek, es.kid, es.priv), now);
  const rsaStatement = db
    .prepare(
      `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at)
       SELECT ?1, 'RS256', 'next', ?2, ?3, ?4
        WHERE EXISTS (SELECT 1 FROM signing_keys WHERE kid = ?5 AND state = 'next')
          AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'next' AND alg = 'RS256')`,
    )
    .bind(rs.kid, rs.pub, await sealJson(kek, rs.kid, rs.priv), now, es.kid);
  return { statement, rsaStatement, kid: es.kid };
}

/** Stages keys on their own (tests); the operation is src/services/key-rotation.ts. Null when one is already staged. */
export async function addNextKey(db: D1Database, kek: Uint8Array): Promise<SigningKeyInfo | null> {
  const { statement, rsaStatement } = await stageKeyStatement(db, kek);
  const [inserted] = await db.batch<SigningKeyRow>([statement, rsaStatement]);
  const row = inserted.results[0];
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
        // The access-token key's kid first (the ES256 and RS256 keys are promoted together).
        `UPDATE signing_keys SET state = 'current', activated_at = ?2 WHERE state = 'next' AND created_at <= ?1
         RETURNING kid, alg`,
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
  const results = await db.batch<{ kid: string; alg: string }>(
    promoteKeyStatements(db, { ...input, now: nowSeconds() }),
  );
  return promotedKid(results[results.length - 1].results);
}

/** The access-token key among the promoted rows (RETURNING order is not defined). */
export function promotedKid(rows: { kid: string; alg?: string }[]): string | null {
  return (rows.find((r) => r.alg !== 'RS256') ?? rows[0])?.kid ?? null;
}

/** Retires previous keys whose tokens have all expired: out of the JWKS, private key erased (cron). */
export function retireExpiredKeysStatement(db: D1Database, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE signing_keys SET state = 'retired', private_jwk_enc = NULL WHERE state = 'previous' AND verify_until <= ?1`,
    )
    .bind(now);
}
