// Local-development helpers shared by `npm start` (scripts/dev.mjs) and the Node end-to-end tests:
// secrets in .dev.vars, D1 migrations, demo data. Everything here is for the local miniflare state only.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
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
    env: { ...wranglerEnv(), CI: 'true', NO_COLOR: '1' },
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

/**
 * Development secrets: a fresh key ring (ES256 signs access tokens, RS256 ID tokens: OpenID Connect Core §15.1),
 * key-encryption key and admin token, kept once created.
 */
export async function makeSecrets() {
  const keys = [];
  for (const alg of ['ES256', 'RS256']) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `k-${new Date().toISOString().slice(0, 10)}-${b64url(randomBytes(4))}`;
    keys.push({ ...(await exportJWK(privateKey)), kid, alg });
  }
  return {
    SIGNING_KEYS: JSON.stringify({ keys }),
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
    const body = Object.entries(merged)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    writeFileSync(path, `# Local development secrets (git-ignored). Delete this file to make new ones.\n${body}\n`, {
      mode: 0o600,
    });
    console.log(`Wrote development secrets to ${path}`);
  }
  return merged;
}

export async function applyMigrations(opts = {}) {
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local'], opts);
}

const sqlString = (s) => (s === null ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

export const sha256 = (value) => createHash('sha256').update(value).digest('base64url');

/** The demo client's id, also passed to the Worker as DEMO_CALLBACK_CLIENT_ID (its /demo/callback page). */
export const DEMO_CLIENT_ID = 'demo-client';

/**
 * The demo client as registered: confidential, every grant and scope. Redirect URIs are loopback IP literals
 * without a port (RFC 8252 §7.3: any port matches), so they fit whatever PORT the server runs on; the first is the
 * server's own demo page (src/routes/demo.ts), the second a native-app style callback.
 */
export const demoClientMetadata = (origin) => ({
  client_name: 'Demo app',
  client_uri: origin,
  description: 'The demo client created by npm start.',
  grant_types: ['client_credentials', 'password', 'refresh_token', 'authorization_code'],
  scope: 'base files upload_files',
  redirect_uris: ['http://127.0.0.1/demo/callback', 'http://127.0.0.1/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
});

/** A JSON call to the running server's admin API; resolves with { status, body }. */
function adminApi(origin, adminToken) {
  return async (method, path, body) => {
    const res = await fetch(`${origin}/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/**
 * Seeds the demo client and demo user through the running server's admin API (the product, not SQL), with the
 * credentials kept in demo-credentials.json, so every run gives the same ones. Idempotent: what exists is updated
 * (metadata, enabled); a secret or password is only set when this file had none to keep (the one in the database
 * is then unknown), which for the client means deleting and re-creating it with a fixed id and secret.
 */
export async function seedDemo(origin, adminToken, { path = credentialsPath } = {}) {
  const previous = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const creds = {
    ...previous,
    client_id: DEMO_CLIENT_ID,
    client_secret:
      previous.client_id === DEMO_CLIENT_ID && previous.client_secret
        ? previous.client_secret
        : b64url(randomBytes(32)),
    username: previous.username ?? 'demo@example.com',
    password: previous.password ?? b64url(randomBytes(12)),
    issuer: origin,
  };
  const secretIsNew = creds.client_secret !== previous.client_secret;
  const api = adminApi(origin, adminToken);
  const must = (r, ...ok) => {
    if (!ok.includes(r.status))
      throw new Error(`seeding the demo data through the admin API failed: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };

  const metadata = demoClientMetadata(origin);
  const client = must(await api('GET', `/clients/${DEMO_CLIENT_ID}`), 200, 404);
  if (client.status === 200 && secretIsNew) must(await api('DELETE', `/clients/${DEMO_CLIENT_ID}`), 204);
  if (client.status === 404 || secretIsNew) {
    must(
      await api('POST', '/clients', { ...metadata, client_id: DEMO_CLIENT_ID, client_secret: creds.client_secret }),
      201,
    );
  } else {
    must(await api('PATCH', `/clients/${DEMO_CLIENT_ID}`, { ...metadata, status: 'active' }), 200);
  }

  const user = must(await api('GET', `/users/${encodeURIComponent(creds.username)}`), 200, 404);
  if (user.status === 404) {
    must(await api('POST', '/users', { email: creds.username, password: creds.password }), 201);
  } else {
    if (creds.password !== previous.password)
      must(await api('POST', `/users/${user.body.id}/password`, { password: creds.password }), 200);
    if (user.body.status !== 'active') must(await api('POST', `/users/${user.body.id}/enable`), 200);
  }
  writeFileSync(path, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  return creds;
}

/** Resolves once the server at `origin` answers its metadata; rejects with `describe()` if `failed()` or after ~2 min. */
export async function waitUntilUp(origin, { failed = () => false, describe = () => '' } = {}) {
  for (let i = 0; ; i++) {
    if (failed()) throw new Error(`wrangler dev stopped before it answered:\n${describe()}`);
    if (i >= 240) throw new Error(`wrangler dev did not start within 2 minutes:\n${describe()}`);
    const up = await fetch(`${origin}/.well-known/oauth-authorization-server`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `wrangler dev` arguments shared by `npm start` and the end-to-end tests. */
export function devArgs(port, origin) {
  return [
    wrangler,
    'dev',
    '--port',
    String(port),
    '--var',
    `ISSUER:${origin}`,
    '--var',
    `ACCESS_TOKEN_AUDIENCE:${origin}/v1`,
    // The local demo page /demo/callback (src/routes/demo.ts); never set in wrangler.toml, so no deploy has it.
    '--var',
    `DEMO_CALLBACK_CLIENT_ID:${DEMO_CLIENT_ID}`,
    // Issue 13 (docs/mcp.md): an MCP client registers itself against `npm start` with no initial access token.
    '--var',
    'REGISTRATION_POLICY:open-public',
    // Local cron runs on demand (GET /__scheduled runs the cleanup of src/jobs/cleanup.ts), instead of wrangler's
    // warning that crons are not triggered locally.
    '--test-scheduled',
  ];
}

/**
 * Environment for wrangler: no metrics prompt or upload, and no fetch of workers.cloudflare.com/cf.json for the
 * `request.cf` placeholder (miniflare's CLOUDFLARE_CF_FETCH_ENABLED; offline it prints a stack trace, and this
 * Worker reads nothing from request.cf), and no version banner (its "update available" line is not ours to act on).
 */
export const wranglerEnv = () => ({
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
});

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
  writeFileSync(
    envFile,
    `${Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  await applyMigrations({ persistTo });

  let output = '';
  const child = spawn(
    process.execPath,
    [
      ...devArgs(port, origin),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persistTo,
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--inspector-port',
      String(await freePort()),
    ],
    {
      cwd: root,
      env: { ...wranglerEnv(), CI: 'true', NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
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
  let creds;
  try {
    await waitUntilUp(origin, { failed: () => child.exitCode !== null, describe: () => output.slice(-2000) });
    // Seeded the way `npm start` seeds: through the admin API of the running server.
    creds = await seedDemo(origin, secrets.ADMIN_TOKEN, { path: join(dir, 'demo-credentials.json') });
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, secrets, creds, stop, dir };
}

/**
 * Registers a resource server (issue 13) through the admin API, idempotently (409 = already registered): `npm start`
 * registers the example MCP server, so tokens asked with resource=<its URL> carry that audience.
 */
export async function seedResource(origin, adminToken, { resource, name, scopes }) {
  const r = await adminApi(origin, adminToken)('POST', '/resources', { resource, name, scopes });
  if (r.status !== 201 && r.status !== 409)
    throw new Error(`registering the resource ${resource} failed: HTTP ${r.status} ${JSON.stringify(r.body)}`);
}
