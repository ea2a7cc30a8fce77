// Seeding the product's local D1 from Node, through Miniflare's binding proxy. Rows are written with the
// same formats as src/storage (SHA-256 base64url for secrets and refresh tokens, the versioned PBKDF2 string
// for passwords), so the Worker treats them exactly like rows it wrote itself.
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const sha256 = (value) => createHash('sha256').update(value).digest('base64url');
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
/** SQL string literal; only ever used on values this file generated (ids, base64url, JSON it built). */
const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);

/** Same format as src/lib/password.ts: pbkdf2-sha256$<iterations>$<salt>$<hash>. */
export function passwordHash(password, iterations = 100_000) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return `pbkdf2-sha256$${iterations}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Applies migrations/*.sql in order (statements split on ";" at line ends, comments dropped). */
export async function applyMigrations(db, dir) {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const sql = readFileSync(join(dir, file), 'utf8').replace(/--[^\n]*/g, '');
    const statements = sql
      .split(/;\s*(?:\n|$)/)
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}

export async function insertClient(db, { id, secret, grantTypes, scopes, name = 'Bench app' }) {
  const t = now();
  await db
    .prepare(
      `INSERT INTO clients (id, secret_hash, name, redirect_uris, grant_types, scopes, confidential, require_pkce, status, created_at, updated_at)
       VALUES (?1, ?2, ?3, '["https://app.example/cb"]', ?4, ?5, 1, 1, 'active', ?6, ?6)`,
    )
    .bind(id, sha256(secret), name, JSON.stringify(grantTypes), scopes.join(' '), t)
    .run();
}

export async function insertUser(db, { id, email, password }) {
  const t = now();
  await db
    .prepare(
      `INSERT INTO users (id, email, password_hash, status, created_at, updated_at) VALUES (?1, ?2, ?3, 'active', ?4, ?4)`,
    )
    .bind(id, email.toLowerCase(), passwordHash(password), t)
    .run();
}

/**
 * Inserts `count` fresh refresh tokens (each its own family, as after `count` sign-ins) for one client and
 * user; returns the plaintext tokens. Multi-row INSERTs of 500 rows, one batch.
 */
export async function insertRefreshTokens(db, { count, clientId, userId, scope = 'base', mask = 1, ttl = 30 * 86400 }) {
  const t = now();
  const tokens = Array.from({ length: count }, () => randomToken(32));
  const statements = [];
  for (let i = 0; i < tokens.length; i += 500) {
    const values = tokens
      .slice(i, i + 500)
      .map(
        (tok) =>
          `(${[sha256(tok), `rtf_${randomToken(16)}`, clientId, userId, scope, mask, t, t + ttl].map(lit).join(', ')})`,
      )
      .join(',\n');
    statements.push(
      db.prepare(
        `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at) VALUES ${values}`,
      ),
    );
  }
  if (statements.length) await db.batch(statements);
  return tokens;
}

/**
 * Inserts `count` unused authorization codes, exactly as src/storage/authorization-codes.ts writes them (SHA-256
 * base64url of a 256-bit code; S256 PKCE challenge; the redirect URI named in the request), each with its own
 * code_verifier. `ttl` is longer than AUTH_CODE_TTL only so that the pool outlives the scenario's window.
 * Returns urlencoded body fragments `<code>&code_verifier=<verifier>`.
 */
export async function insertAuthorizationCodes(
  db,
  { count, clientId, userId, redirectUri, scope = 'base', mask = 1, ttl = 600 },
) {
  const t = now();
  const entries = [];
  const statements = [];
  for (let i = 0; i < count; i += 500) {
    const values = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const code = randomToken(32);
      const verifier = randomToken(32);
      entries.push(`${code}&code_verifier=${verifier}`);
      values.push(
        `(${[sha256(code), clientId, userId, redirectUri, 1, scope, mask, sha256(verifier), t, t + ttl].map(lit).join(', ')})`,
      );
    }
    statements.push(
      db.prepare(
        `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_sent, scope, scope_mask, code_challenge, created_at, expires_at)
         VALUES ${values.join(',\n')}`,
      ),
    );
  }
  if (statements.length) await db.batch(statements);
  return entries;
}

/**
 * Background rows for the growth scenarios, generated inside SQLite (recursive CTE) in chunks of `chunk`
 * rows per statement: random 256-bit hashes (so the primary-key index is as scattered as in production),
 * spread over `clients` clients. Returns the elapsed milliseconds.
 */
export async function fillRefreshTokens(db, { count, clients, chunk = 100_000 }) {
  const started = performance.now();
  const t = now();
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    await db
      .prepare(
        `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
         INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at)
         SELECT lower(hex(randomblob(32))), 'rtf_' || lower(hex(randomblob(12))), 'cl_fill_' || ((i + ?2) % ?3),
                'usr_fill_' || (i + ?2), 'base', 1, ?4, ?4 + 2592000 FROM seq`,
      )
      .bind(n, done, clients, t)
      .run();
  }
  return performance.now() - started;
}

/** `count` background clients (ids cl_fill_<n>), as registered through the portal. Returns elapsed ms. */
export async function fillClients(db, { count }) {
  const started = performance.now();
  const t = now();
  await db
    .prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1 - 1)
       INSERT INTO clients (id, secret_hash, name, redirect_uris, grant_types, scopes, confidential, require_pkce, status, created_at, updated_at)
       SELECT 'cl_fill_' || i, lower(hex(randomblob(32))), 'Filler app ' || i, '["https://app' || i || '.example/cb"]',
              '["client_credentials","refresh_token","authorization_code"]', 'base files', 1, 1, 'active', ?2, ?2 FROM seq`,
    )
    .bind(count, t)
    .run();
  return performance.now() - started;
}

export async function countRows(db, table) {
  const row = await db.prepare(`SELECT count(*) AS n FROM ${table}`).first();
  return row.n;
}
