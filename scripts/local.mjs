// Local-development helpers shared by `npm start` (scripts/dev.mjs) and the Node end-to-end tests:
// secrets in .dev.vars, D1 migrations, demo data. Everything here is for the local miniflare state only.
import { execFile, spawn } from 'node:child_process';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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

/**
 * Operator credentials for local development (issue 5): writes `admin_token` (the ADMIN_TOKEN of .dev.vars) and an
 * `initial_access_token` for dynamic client registration into demo-credentials.json. The initial access token is
 * kept across runs and its hash (re)written to D1 with a fresh 30-day expiry, so the file and the database agree.
 */
export async function seedOperatorCredentials(adminToken, { path = credentialsPath, persistTo } = {}) {
  const creds = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const iat = creds.initial_access_token ?? `iat_${b64url(randomBytes(32))}`;
  const now = Math.floor(Date.now() / 1000);
  const sql = `
INSERT INTO initial_access_tokens (hash, label, created_at, expires_at, max_uses) VALUES (${sqlString(sha256(iat))}, 'npm start', ${now}, ${now + 30 * 86_400}, NULL)
ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at;
`;
  const file = join(root, '.wrangler', 'seed-operator.sql');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, sql, { mode: 0o600 });
  await runWrangler(['d1', 'execute', 'DB', '--local', '--file', file], { persistTo });
  writeFileSync(file, '');
  const out = { ...creds, admin_token: adminToken, initial_access_token: iat };
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  return out;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the Worker for Node end-to-end tests (CLI, browser): `wrangler dev` on a free port with fresh secrets and
 * local D1/KV/R2 persisted to a temporary directory, migrations applied, the demo client and user seeded.
 * Resolves once the server answers; `stop()` ends wrangler and its workerd and removes the directory.
 */
export async function startLocalWorker() {
  const dir = mkdtempSync(join(tmpdir(), 'edge-oauth-e2e-'));
  const persistTo = join(dir, 'state');
  const envFile = join(dir, '.dev.vars');
  const secrets = await makeSecrets();
  writeFileSync(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  await applyMigrations({ persistTo });
  const creds = await seedDemo(origin, { path: join(dir, 'demo-credentials.json'), persistTo });

  let output = '';
  const child = spawn(
    process.execPath,
    [
      wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistTo, '--env-file', envFile,
      '--var', `ISSUER:${origin}`, '--var', `ACCESS_TOKEN_AUDIENCE:${origin}/v1`, '--show-interactive-dev-session=false',
      '--inspector-port', String(await freePort()),
    ],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d) => {
    output += String(d);
    if (process.env.E2E_DEBUG) process.stdout.write(String(d));
  });
  child.stderr.on('data', (d) => (output += String(d)));
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGTERM'); // the process group started here: wrangler and its workerd
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output.slice(-2000)}`);
      if (i >= 240) throw new Error(`wrangler dev did not start:\n${output.slice(-2000)}`);
      const up = await fetch(`${origin}/.well-known/oauth-authorization-server`).then((r) => r.ok, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, secrets, creds, stop };
}
