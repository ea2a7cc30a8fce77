// Local-development helpers shared by `npm start` (scripts/dev.mjs) and the Node end-to-end tests:
// secrets in .dev.vars, D1 migrations, demo data. Everything here is for the local miniflare state only.
import { execFile } from 'node:child_process';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';

const run = promisify(execFile);
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
export const devVarsPath = join(root, '.dev.vars');
export const credentialsPath = join(root, 'demo-credentials.json');

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Runs wrangler with the project's config and the given extra args; returns stdout. */
export async function runWrangler(args, { persistTo } = {}) {
  const extra = persistTo ? ['--persist-to', persistTo] : [];
  const { stdout } = await run(process.execPath, [wrangler, ...args, ...extra], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Reads KEY=VALUE lines of a .dev.vars file. */
export function readDevVars(path = devVarsPath) {
  const vars = {};
  if (!existsSync(path)) return vars;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

/** Development secrets: a fresh ES256 key ring, key-encryption key and admin token, kept once created. */
export async function makeSecrets() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `k-${new Date().toISOString().slice(0, 10)}-${b64url(randomBytes(4))}`;
  return {
    SIGNING_KEYS: JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }] }),
    KEY_ENCRYPTION_KEY: b64url(randomBytes(32)),
    ADMIN_TOKEN: b64url(randomBytes(32)),
  };
}

/** Creates .dev.vars if missing; adds any secret a newer version needs. Returns the secrets. */
export async function ensureDevVars(path = devVarsPath) {
  const existing = readDevVars(path);
  const fresh = await makeSecrets();
  const merged = { ...fresh, ...existing };
  const changed = Object.keys(fresh).some((k) => existing[k] === undefined);
  if (changed) {
    const body = Object.entries(merged).map(([k, v]) => `${k}=${v}`).join('\n');
    writeFileSync(path, `# Local development secrets (git-ignored). Delete this file to make new ones.\n${body}\n`, { mode: 0o600 });
    console.log(`Wrote development secrets to ${path}`);
  }
  return merged;
}

export async function applyMigrations(opts = {}) {
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local'], opts);
}

const sqlString = (s) => (s === null ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

/** Same formats as src/tokens/password.ts and src/tokens/random.ts. */
export function hashPassword(password, iterations = 100_000) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return `pbkdf2-sha256$${iterations}$${b64url(salt)}$${b64url(hash)}`;
}
export const sha256 = (value) => createHash('sha256').update(value).digest('base64url');

/**
 * Seeds the demo client (confidential, all grants and scopes) and demo user. Credentials are kept in
 * demo-credentials.json and written back to D1 on every run, so the file and the database always agree.
 */
export async function seedDemo(origin, { path = credentialsPath, persistTo } = {}) {
  const previous = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const creds = {
    ...previous,
    client_id: previous.client_id ?? 'demo-client',
    client_secret: previous.client_secret ?? b64url(randomBytes(32)),
    username: previous.username ?? 'demo@example.com',
    password: previous.password ?? b64url(randomBytes(12)),
    issuer: origin,
  };
  const now = Math.floor(Date.now() / 1000);
  const redirects = JSON.stringify([`${origin}/demo/callback`, 'http://127.0.0.1/callback']);
  const grants = JSON.stringify(['client_credentials', 'password', 'refresh_token', 'authorization_code']);
  const sql = `
INSERT INTO clients (id, secret_hash, name, site_url, description, logo_url, redirect_uris, grant_types, scopes, confidential, require_pkce, owner_user_id, status, created_at, updated_at)
VALUES (${sqlString(creds.client_id)}, ${sqlString(sha256(creds.client_secret))}, 'Demo app', ${sqlString(origin)}, 'The demo client created by npm start.', NULL,
        ${sqlString(redirects)}, ${sqlString(grants)}, 'base files upload_files', 1, 1, NULL, 'active', ${now}, ${now})
ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, status = 'active', updated_at = excluded.updated_at;
INSERT INTO users (id, email, password_hash, status, created_at, updated_at)
VALUES ('usr_demo', ${sqlString(creds.username)}, ${sqlString(hashPassword(creds.password))}, 'active', ${now}, ${now})
ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, status = 'active', updated_at = excluded.updated_at;
DELETE FROM throttle WHERE key IN (${sqlString(`user:${creds.username}`)}, ${sqlString(`client:${creds.client_id}`)});
`;
  const dir = join(root, '.wrangler');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'seed-demo.sql');
  writeFileSync(file, sql, { mode: 0o600 });
  await runWrangler(['d1', 'execute', 'DB', '--local', '--file', file], { persistTo });
  writeFileSync(file, '');
  // The KV client cache may hold an older record of the demo client.
  await runWrangler(['kv', 'key', 'delete', `client:${creds.client_id}`, '--binding', 'CACHE', '--local'], { persistTo }).catch(() => {});
  writeFileSync(path, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  return creds;
}
