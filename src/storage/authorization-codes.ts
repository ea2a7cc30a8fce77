/**
 * Authorization codes in D1 (RFC 6749 §4.1.2): stored only as SHA-256 hashes. Redemption is one D1 batch
 * (one transaction): the code is consumed by `UPDATE … WHERE used_at IS NULL`, the refresh-token family is
 * inserted only if that update matched, and a replay revokes what the first redemption issued.
 */
import { nowSeconds } from '../lib/clock';
import { randomId, randomToken, sha256 } from '../lib/random';
import { CLOCK_TOLERANCE } from '../oauth/access-token-claims';

export interface NewCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  /** Whether the authorization request named the redirect URI (then the token request must repeat it). */
  redirectUriSent: boolean;
  scope: string;
  scopeMask: number;
  codeChallenge: string | null;
  ttlSeconds: number;
  /** Issue 13: the canonical resource URIs granted (RFC 8707); the refresh-token family inherits them. */
  resources: readonly string[];
  /** OpenID Connect (migrations/0012): what the ID token must say. */
  oidc?: CodeOidc;
}

/** What a code remembers for its ID token (OpenID Connect Core §3.1.3.6). */
export interface CodeOidc {
  nonce: string | null;
  /** When the user signed in (the session's start). */
  authTime: number | null;
  sid: string | null;
  /** The claims request (Core §5.5), JSON. */
  claims: string | null;
}

/** Prepares the insert of a new code; returns the plaintext code (256 random bits), which is never stored. */
export async function newCodeStatement(
  db: D1Database,
  input: NewCode,
): Promise<{ code: string; statement: D1PreparedStatement }> {
  const code = randomToken(32);
  const now = nowSeconds();
  const statement = db
    .prepare(
      `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_sent, scope, scope_mask,
         code_challenge, created_at, expires_at, resources, nonce, auth_time, sid, claims)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
    )
    .bind(
      await sha256(code),
      input.clientId,
      input.userId,
      input.redirectUri,
      input.redirectUriSent ? 1 : 0,
      input.scope,
      input.scopeMask,
      input.codeChallenge,
      now,
      now + input.ttlSeconds,
      JSON.stringify(input.resources),
      input.oidc?.nonce ?? null,
      input.oidc?.authTime ?? null,
      input.oidc?.sid ?? null,
      input.oidc?.claims ?? null,
    );
  return { code, statement };
}

/**
 * OpenID Connect Core §11: a code issued with scope `openid` yields a refresh token only when `offline_access` was
 * granted too (bits of src/oauth/scopes.ts: openid 8, offline_access 64). A plain OAuth code (no `openid`) keeps
 * today's rule: a refresh token whenever the client is registered for the refresh_token grant.
 */
const OFFLINE_RULE_SQL = '((scope_mask & 8) = 0 OR (scope_mask & 64) <> 0)';
const offlineRule = (mask: number) => (mask & 8) === 0 || (mask & 64) !== 0;

export interface Redemption {
  code: string;
  clientId: string;
  /** The redirect_uri of the token request, or null when absent. */
  redirectUri: string | null;
  /** S256 of the presented code_verifier, or null when absent. */
  challenge: string | null;
  /** The jti (and its expiry) of the access token this redemption will issue. */
  jti: string;
  jtiExp: number;
  /** Issue a refresh token too, with this lifetime. */
  refreshTtl: number | null;
  /**
   * RFC 8707 §2: the resources (canonical URIs) the token request narrows to, [] for all of the code's; checked by
   * the consuming statement, so a code asked for a resource it was not granted for is not consumed.
   */
  resources: readonly string[];
  /** What a code from before migration 0009 (resources NULL) was granted for: the built-in /v1's key. */
  defaultResource: string;
}

export interface CodeRecord {
  clientId: string;
  userId: string;
  scope: string;
  scopeMask: number;
  /** The canonical resource URIs granted; null for a code from before migration 0009 (the default audience). */
  resources: string[] | null;
  oidc: CodeOidc;
}

export type RedemptionResult =
  | { ok: true; record: CodeRecord; refreshToken: string | null; familyId: string }
  | {
      ok: false;
      reason:
        | 'unknown'
        | 'wrong_client'
        | 'replayed'
        | 'expired'
        | 'redirect_uri_missing'
        | 'redirect_uri_mismatch'
        | 'verifier_missing'
        | 'verifier_mismatch'
        | 'downgrade'
        | 'target_not_granted'
        | 'user_inactive';
      record?: CodeRecord;
    };

interface CodeRow {
  client_id: string;
  user_id: string;
  redirect_uri: string;
  redirect_uri_sent: number;
  scope: string;
  scope_mask: number;
  code_challenge: string | null;
  expires_at: number;
  used_at: number | null;
  issued_jti: string | null;
  resources: string | null;
  nonce: string | null;
  auth_time: number | null;
  sid: string | null;
  claims: string | null;
}

/**
 * Redeems a code in one batch:
 * 1. consumes it, only if unused, unexpired, the client's, with the same redirect URI and PKCE verifier, user active;
 * 2. inserts a refresh-token family only if step 1 matched (the row now carries our jti);
 * 3–4. if it had already been redeemed by this client (with the right verifier), revokes that redemption's
 *    refresh family and deny-lists its access token (RFC 6749 §4.1.2, RFC 9700 §4.1.3);
 * 5. reads the row back to tell the caller what happened.
 */
export async function redeemCode(db: D1Database, r: Redemption): Promise<RedemptionResult> {
  const hash = await sha256(r.code);
  const now = nowSeconds();
  const refreshToken = r.refreshTtl !== null ? randomToken(32) : null;
  // Every redemption is a grant with an id (the refresh family's, when there is one): its access tokens carry it as
  // `fid`, so a replay or a withdrawn consent reaches them even without a refresh token (issue 10 item 4).
  const familyId = randomId('rtf', 16);
  const stmts: D1PreparedStatement[] = [
    db
      .prepare(
        `UPDATE authorization_codes SET used_at = ?2, issued_jti = ?3, issued_jti_exp = ?4, issued_family_id = ?5
          WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2 AND client_id = ?6
            AND ((?7 IS NULL AND redirect_uri_sent = 0) OR redirect_uri = ?7)
            AND ((?8 IS NULL AND code_challenge IS NULL) OR code_challenge = ?8)
            AND NOT EXISTS (SELECT 1 FROM json_each(?9) q WHERE q.value NOT IN
                  (SELECT value FROM json_each(COALESCE(authorization_codes.resources, json_array(?10)))))
            AND EXISTS (SELECT 1 FROM users u WHERE u.id = authorization_codes.user_id AND u.status = 'active')`,
      )
      .bind(
        hash,
        now,
        r.jti,
        r.jtiExp,
        familyId,
        r.clientId,
        r.redirectUri,
        r.challenge,
        JSON.stringify(r.resources),
        r.defaultResource,
      ),
  ];
  if (refreshToken) {
    stmts.push(
      db
        .prepare(
          `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at, resources)
           SELECT ?1, ?2, client_id, user_id, scope, scope_mask, ?3, ?4, resources FROM authorization_codes WHERE hash = ?5 AND issued_jti = ?6
              AND ${OFFLINE_RULE_SQL}`,
        )
        .bind(await sha256(refreshToken), familyId, now, now + (r.refreshTtl ?? 0), hash, r.jti),
    );
  }
  // A replay: used before, by another request of the same client holding the same verifier.
  const replay = `hash = ?1 AND used_at IS NOT NULL AND issued_jti <> ?2 AND client_id = ?3 AND (code_challenge IS NULL OR code_challenge = ?4)`;
  stmts.push(
    db
      .prepare(
        `UPDATE refresh_tokens SET revoked_at = ?5 WHERE revoked_at IS NULL
           AND family_id = (SELECT issued_family_id FROM authorization_codes WHERE ${replay})`,
      )
      .bind(hash, r.jti, r.clientId, r.challenge, now),
    db
      .prepare(
        // The first redemption's access token by jti (it may predate fid claims) and its grant by fid, which reaches
        // the access tokens refreshed from it since: none outlives now + one access-token lifetime (= r.jtiExp).
        `INSERT INTO revocations (kind, value, created_at, expires_at)
         SELECT 'jti', issued_jti, ?5, issued_jti_exp FROM authorization_codes WHERE ${replay}
         UNION ALL
         SELECT 'family', issued_family_id, ?5, ?6 FROM authorization_codes WHERE ${replay} AND issued_family_id IS NOT NULL
         ON CONFLICT (kind, value) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
      )
      .bind(hash, r.jti, r.clientId, r.challenge, now, r.jtiExp + CLOCK_TOLERANCE),
    db
      .prepare(
        `SELECT client_id, user_id, redirect_uri, redirect_uri_sent, scope, scope_mask, code_challenge, expires_at, used_at, issued_jti, resources,
                nonce, auth_time, sid, claims
           FROM authorization_codes WHERE hash = ?1`,
      )
      .bind(hash),
  );
  const results = await db.batch(stmts);
  const row = results[results.length - 1].results[0] as CodeRow | undefined;
  if (!row) return { ok: false, reason: 'unknown' };
  const record: CodeRecord = {
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope,
    scopeMask: row.scope_mask,
    resources: row.resources ? (JSON.parse(row.resources) as string[]) : null,
    oidc: { nonce: row.nonce, authTime: row.auth_time, sid: row.sid, claims: row.claims },
  };
  if (row.issued_jti === r.jti)
    return { ok: true, record, refreshToken: offlineRule(row.scope_mask) ? refreshToken : null, familyId };
  if (row.client_id !== r.clientId) return { ok: false, reason: 'wrong_client' };
  if (row.used_at !== null) return { ok: false, reason: 'replayed', record };
  if (row.expires_at <= now) return { ok: false, reason: 'expired', record };
  if (r.redirectUri === null && row.redirect_uri_sent === 1)
    return { ok: false, reason: 'redirect_uri_missing', record };
  if (r.redirectUri !== null && r.redirectUri !== row.redirect_uri)
    return { ok: false, reason: 'redirect_uri_mismatch', record };
  if (row.code_challenge === null && r.challenge !== null) return { ok: false, reason: 'downgrade', record };
  if (row.code_challenge !== null && r.challenge === null) return { ok: false, reason: 'verifier_missing', record };
  if (row.code_challenge !== r.challenge) return { ok: false, reason: 'verifier_mismatch', record };
  const granted = record.resources ?? [r.defaultResource];
  if (r.resources.some((u) => !granted.includes(u))) return { ok: false, reason: 'target_not_granted', record };
  return { ok: false, reason: 'user_inactive', record };
}
