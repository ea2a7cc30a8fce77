// What each server needs before it is measured: the product's secrets and seeded state, the
// workers-oauth-provider peer's grants, and the oidc-provider peer's Node process.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PORTS } from './runtime.mjs';
import {
  applyMigrations,
  insertAuthorizationCodes,
  insertClient,
  insertRefreshTokens,
  insertUser,
  randomToken,
} from './seed.mjs';
import { basic, CODE_POOL, expectOk, POOL, ROOT } from './settings.mjs';

export function productSecrets() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256' };
  return {
    SIGNING_KEYS: JSON.stringify({ keys: [jwk] }),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: randomToken(32),
  };
}

/** Product state: migrations, one client with every grant, one user, a 20 KB object, tokens, a refresh pool. */
export async function seedProduct(mf, dir) {
  const db = await mf.getD1Database('DB', 'product');
  await applyMigrations(db, join(ROOT, 'migrations'));
  const p = {
    clientId: 'cl_bench',
    secret: randomToken(32),
    email: 'bench@example.com',
    password: randomToken(12),
    userId: 'usr_bench',
  };
  await insertClient(db, {
    id: p.clientId,
    secret: p.secret,
    grantTypes: ['client_credentials', 'password', 'refresh_token', 'authorization_code'],
    scopes: ['base', 'files', 'upload_files'],
  });
  await insertUser(db, { id: p.userId, email: p.email, password: p.password });
  p.basic = basic(p.clientId, p.secret);
  const tokenPost = (body) => ({
    method: 'POST',
    path: '/oauth2/token',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: p.basic },
    body,
  });
  p.clientAccessToken = (
    await expectOk('product', tokenPost('grant_type=client_credentials'), 'seed: client_credentials')
  ).json().access_token;
  const pw = `grant_type=password&username=${encodeURIComponent(p.email)}&password=${encodeURIComponent(p.password)}`;
  p.userAccessToken = (await expectOk('product', tokenPost(pw), 'seed: password grant')).json().access_token;
  p.refreshPoolFile = join(dir, 'product-refresh-pool.json');
  writeFileSync(
    p.refreshPoolFile,
    JSON.stringify(await insertRefreshTokens(db, { count: POOL, clientId: p.clientId, userId: p.userId })),
  );
  // Image GET: one 20 KB PNG uploaded through the product's own PUT with an upload_files token, read back with a
  // files-only token in the URL; the r2_read baseline reads the very same R2 object (key c/<client>/<path>).
  const uploadToken = (
    await expectOk('product', tokenPost('grant_type=client_credentials&scope=upload_files'), 'seed: upload_files token')
  ).json().access_token;
  p.filesAccessToken = (
    await expectOk('product', tokenPost('grant_type=client_credentials&scope=files'), 'seed: files token')
  ).json().access_token;
  p.imagePath = 'bench-image.png';
  const png = randomBytes(20 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png); // PNG signature: the upload sniffs the type
  await expectOk(
    'product',
    {
      method: 'PUT',
      path: `/v1/img/${p.imagePath}`,
      headers: { Authorization: `Bearer ${uploadToken}`, 'Content-Type': 'image/png' },
      body: png,
    },
    'seed: image upload',
  );
  p.imageKey = `c/${p.clientId}/${p.imagePath}`;
  // Authorization codes for the code exchange, with PKCE, as the authorization endpoint stores them.
  p.redirectUri = 'https://app.example/cb';
  p.codePoolFile = join(dir, 'product-code-pool.json');
  writeFileSync(
    p.codePoolFile,
    JSON.stringify(
      await insertAuthorizationCodes(db, {
        count: CODE_POOL,
        clientId: p.clientId,
        userId: p.userId,
        redirectUri: p.redirectUri,
      }),
    ),
  );
  return { db, p };
}

/** workers-oauth-provider: one client, POOL+1 grants through its own authorize helpers and token endpoint. */
export async function seedWop() {
  const seed = (
    await expectOk('wop', { method: 'POST', path: `/bench/seed?n=${POOL + 1}` }, 'seed: workers-oauth-provider')
  ).json();
  const w = { basic: basic(seed.clientId, seed.clientSecret), refresh: [] };
  for (const code of seed.codes) {
    const body = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(seed.redirectUri)}`;
    const t = (
      await expectOk(
        'wop',
        {
          method: 'POST',
          path: '/oauth/token',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: w.basic },
          body,
        },
        'seed: wop code exchange',
      )
    ).json();
    w.accessToken ??= t.access_token;
    w.refresh.push(t.refresh_token);
  }
  return w;
}

export function startOidc() {
  const clientId = 'bench-client';
  const secret = randomToken(32);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bench/peers/oidc-provider/server.mjs'), String(PORTS.oidc), clientId, secret],
    {
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr.on('data', (d) => {
    const line = String(d);
    if (!/WARNING|NOTICE/.test(line)) process.stderr.write(`[oidc-provider] ${line}`);
  });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`oidc-provider exited (${code})`)));
  });
  return { child, ready, clientId, secret };
}
