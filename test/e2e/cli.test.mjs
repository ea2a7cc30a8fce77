// End to end: `npm run admin` (scripts/admin.mjs) driven against a real local server (`wrangler dev` on a free
// port, with its own temporary persistence directory and secrets), the way an operator uses it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startLocalWorker } from '../../scripts/local.mjs';

const run = promisify(execFile);
let server;
let origin;
let secrets;


/** Runs the CLI; resolves with exit code, stdout, stderr (never throws on a non-zero exit). */
async function cli(args, env = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'scripts', 'admin.mjs'), ...args, '--url', origin], {
      env: { ...process.env, ADMIN_TOKEN: secrets.ADMIN_TOKEN, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
const cliJson = async (args) => {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`CLI ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function clientCredentials(id, secret) {
  return fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa(`${id}:${secret}`)}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
}
const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;

beforeAll(async () => {
  server = await startLocalWorker();
  origin = server.origin;
  secrets = server.secrets;
});

afterAll(() => server?.stop());

describe('admin CLI against a running local server', () => {
  it('manages a client end to end: create, use, list, rotate its secret, disable, delete', async () => {
    const created = await cliJson(['clients', 'create', '--name', 'E2E app', '--grant', 'client_credentials', '--scope', 'base files']);
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await clientCredentials(created.client_id, created.client_secret)).status).toBe(200);

    const table = await cli(['clients', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^CLIENT_ID\s+CLIENT_NAME\s+STATUS/);
    expect(table.stdout).toContain('E2E app');

    const rotated = await cliJson(['clients', 'rotate-secret', created.client_id]);
    expect((await clientCredentials(created.client_id, created.client_secret)).status).toBe(401);
    expect((await clientCredentials(created.client_id, rotated.client_secret)).status).toBe(200);

    await cliJson(['clients', 'disable', created.client_id]);
    expect((await clientCredentials(created.client_id, rotated.client_secret)).status).toBe(401);

    const refused = await cli(['clients', 'delete', created.client_id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await cliJson(['clients', 'delete', created.client_id, '--yes'])).deleted).toBe(created.client_id);
    const gone = await cli(['clients', 'show', created.client_id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No client with id');

    const events = await cliJson(['audit', '--limit', '20']);
    const names = events.filter((e) => e.subject === created.client_id).map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(['client_created', 'client_secret_rotated', 'client_updated', 'client_deleted', 'client_auth_failed']));
  });

  it('rotates the signing keys in two steps; old tokens keep working, new ones carry the new kid', async () => {
    const c = await cliJson(['clients', 'create', '--name', 'Keys app']);
    const before = (await (await clientCredentials(c.client_id, c.client_secret)).json()).access_token;
    const staged = await cliJson(['keys', 'rotate']);
    expect(staged.step).toBe('staged');
    const jwks = await (await fetch(`${origin}/.well-known/jwks.json`)).json();
    expect(jwks.keys.map((k) => k.kid)).toContain(staged.kid);

    const early = await cli(['keys', 'rotate']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('force it');
    expect(early.stderr).toContain('HTTP 409');

    expect((await cliJson(['keys', 'rotate', '--force'])).kid).toBe(staged.kid);
    const after = (await (await clientCredentials(c.client_id, c.client_secret)).json()).access_token;
    expect(kidOf(after)).toBe(staged.kid);
    expect(kidOf(before)).not.toBe(staged.kid);
    for (const token of [before, after]) {
      expect((await fetch(`${origin}/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const keys = await cli(['keys', 'list']);
    expect(keys.stdout).toMatch(/current/);
    expect(keys.stdout).toMatch(/previous/);
  });

  it('creates a user, resets the password, issues an initial access token that registers a client', async () => {
    const user = await cliJson(['users', 'create', '--email', 'e2e@example.com']);
    expect(user.password.length).toBeGreaterThan(16);
    const reset = await cliJson(['users', 'reset-password', 'e2e@example.com', '--password', 'a new password 123']);
    expect(reset.password).toBeUndefined();
    expect((await cliJson(['users', 'disable', user.id])).status).toBe('disabled');

    const iat = await cliJson(['initial-access-token', 'create', '--max-uses', '1']);
    const reg = await fetch(`${origin}/oauth2/register`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${iat.initial_access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Registered', redirect_uris: ['https://app.example/cb'] }),
    });
    expect(reg.status).toBe(201);
  });

  it('sets the refresh-token policy and the PKCE switch (issue 11), refused for a public client', async () => {
    const c = await cliJson([
      'clients', 'create', '--name', 'Seed 000 partner', '--grant', 'password', '--grant', 'refresh_token', '--grant', 'authorization_code',
      '--redirect-uri', 'https://partner.example/cb', '--refresh-token-policy', 'reuse', '--require-pkce', 'false',
    ]);
    expect(c).toMatchObject({ refresh_token_policy: 'reuse', require_pkce: false, confidential: true });
    const user = await cliJson(['users', 'create', '--email', 'seed000@example.com']);
    const tokenCall = (body) =>
      fetch(`${origin}/oauth2/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${c.client_id}:${c.client_secret}`)}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      }).then((r) => r.json());
    const first = (await tokenCall({ grant_type: 'password', username: 'seed000@example.com', password: user.password })).refresh_token;
    for (let i = 0; i < 2; i++) expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: first })).refresh_token).toBe(first);

    const updated = await cliJson(['clients', 'update', c.client_id, '--refresh-token-policy', 'rotate', '--require-pkce', 'true']);
    expect(updated).toMatchObject({ refresh_token_policy: 'rotate', require_pkce: true });
    expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: first })).refresh_token).not.toBe(first);

    const spa = ['clients', 'create', '--name', 'SPA', '--public', '--grant', 'authorization_code', '--redirect-uri', 'https://spa.example/cb'];
    const reuse = await cli([...spa, '--refresh-token-policy', 'reuse']);
    expect(reuse.code).toBe(1);
    expect(reuse.stderr).toContain('A public client cannot have refresh_token_policy "reuse"');
    expect(reuse.stderr).toContain('HTTP 400 invalid_client_metadata');
    const noPkce = await cli([...spa, '--require-pkce', 'false']);
    expect(noPkce.code).toBe(1);
    expect(noPkce.stderr).toContain('A public client cannot turn off PKCE');
    const typo = await cli(['clients', 'update', c.client_id, '--require-pkce', 'no']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--require-pkce must be true or false');
  });

  it('gives clear errors and help', async () => {
    const wrong = await cli(['clients', 'list'], { ADMIN_TOKEN: 'not-the-admin-token' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('admin token is wrong');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
    const help = await cli(['keys', 'rotate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run admin -- keys rotate');
    const badOpt = await cli(['clients', 'list', '--bogus']);
    expect(badOpt.code).toBe(2);
    const down = await run(process.execPath, [join(root, 'scripts', 'admin.mjs'), 'clients', 'list', '--url', 'http://127.0.0.1:9'], {
      env: { ...process.env, ADMIN_TOKEN: 'x' },
    }).catch((e) => e);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
  });
});
