// End to end: `npm run admin` (scripts/admin.mjs) driven against a real local server (`wrangler dev` on a free
// port, with its own temporary persistence directory and secrets), the way an operator uses it.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'scripts', 'admin.mjs'), ...args, '--url', origin],
      {
        env: { ...process.env, ADMIN_TOKEN: secrets.ADMIN_TOKEN, ...env },
      },
    );
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

/**
 * Runs a copy of the CLI in a project directory of its own holding `demo-credentials.json` (as `npm start` writes
 * it), with neither --url nor ADMIN_TOKEN: what it talks to is what the defaults choose.
 */
async function cliInProject(args, { credentials, env = {} }) {
  const project = mkdtempSync(join(tmpdir(), 'edge-oauth-cli-'));
  try {
    mkdirSync(join(project, 'scripts'));
    copyFileSync(join(root, 'scripts', 'admin.mjs'), join(project, 'scripts', 'admin.mjs'));
    writeFileSync(join(project, 'demo-credentials.json'), JSON.stringify(credentials));
    const { ADMIN_URL: _u, ADMIN_TOKEN: _t, ...inherited } = process.env;
    try {
      const { stdout, stderr } = await run(process.execPath, [join(project, 'scripts', 'admin.mjs'), ...args], {
        env: { ...inherited, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

describe('admin CLI: which server it talks to', () => {
  it('defaults to the issuer of the local server in demo-credentials.json (a non-default PORT), with its admin_token', async () => {
    expect(origin).not.toBe('http://localhost:8787'); // a free port, as with PORT=8801 npm start
    const r = await cliInProject(['clients', 'list', '--json'], {
      credentials: { issuer: origin, admin_token: secrets.ADMIN_TOKEN },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((c) => c.client_id)).toContain('demo-client');
    const help = await cliInProject(['--help'], { credentials: { issuer: origin } });
    expect(help.stdout).toContain(`Now: ${origin}`);
  });

  it('ADMIN_URL overrides demo-credentials.json, and --url overrides ADMIN_URL', async () => {
    const dead = 'http://127.0.0.1:9';
    const viaEnv = await cliInProject(['clients', 'list'], {
      credentials: { issuer: dead, admin_token: secrets.ADMIN_TOKEN },
      env: { ADMIN_URL: origin },
    });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toMatch(/^CLIENT_ID\s+CLIENT_NAME/);
    const envWins = await cliInProject(['clients', 'list'], {
      credentials: { issuer: origin, admin_token: secrets.ADMIN_TOKEN },
      env: { ADMIN_URL: dead },
    });
    expect(envWins.code).toBe(1);
    expect(envWins.stderr).toContain(`cannot reach ${dead}`);
    const urlWins = await cliInProject(['clients', 'list', '--url', origin], {
      credentials: { issuer: dead, admin_token: secrets.ADMIN_TOKEN },
      env: { ADMIN_URL: dead },
    });
    expect(urlWins.code).toBe(0);
    const badEnv = await cliInProject(['clients', 'list'], { credentials: {}, env: { ADMIN_URL: 'not a url' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('ADMIN_URL must be a URL');
  });

  it('creates a client with a fixed id and a secret taken from an environment variable', async () => {
    const secret = 'cli-fixed-secret-0123456789abcdefghijklmnop';
    const created = await cli(
      [
        'clients',
        'create',
        '--name',
        'Moved partner',
        '--client-id',
        'moved-partner-1',
        '--client-secret-env',
        'PARTNER_SECRET',
        '--json',
      ],
      { PARTNER_SECRET: secret },
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).client_id).toBe('moved-partner-1');
    expect((await clientCredentials('moved-partner-1', secret)).status).toBe(200);
    const unset = await cli(['clients', 'create', '--name', 'X', '--client-secret-env', 'NOT_SET_ANYWHERE']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('NOT_SET_ANYWHERE is not set');
    const again = await cli(['clients', 'create', '--name', 'Again', '--client-id', 'moved-partner-1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });
});

describe('admin CLI against a running local server', () => {
  it('manages a client end to end: create, use, list, rotate its secret, disable, delete', async () => {
    const created = await cliJson([
      'clients',
      'create',
      '--name',
      'E2E app',
      '--grant',
      'client_credentials',
      '--scope',
      'base files',
    ]);
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
    expect(names).toEqual(
      expect.arrayContaining([
        'client_created',
        'client_secret_rotated',
        'client_updated',
        'client_deleted',
        'client_auth_failed',
      ]),
    );
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

  it('edits a user’s OpenID Connect profile (issue 15: users update) and reads it back with users show', async () => {
    const user = await cliJson(['users', 'create', '--email', 'profile-e2e@example.com']);
    expect(user.email_verified).toBe(false);
    const updated = await cliJson([
      'users',
      'update',
      'profile-e2e@example.com',
      '--name',
      'Ada Lovelace',
      '--given-name',
      'Ada',
      '--family-name',
      'Lovelace',
      '--picture',
      'https://img.example.com/ada.png',
      '--locale',
      'en-GB',
      '--email-verified',
      'true',
    ]);
    const profile = {
      id: user.id,
      email: 'profile-e2e@example.com',
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      picture: 'https://img.example.com/ada.png',
      locale: 'en-GB',
      email_verified: true,
    };
    expect(updated).toMatchObject(profile);
    expect(updated.updated_at).toBeGreaterThanOrEqual(user.updated_at);
    // Read back by id, in a later process: stored, not only echoed.
    expect(await cliJson(['users', 'show', user.id])).toMatchObject(profile);
    // One field at a time leaves the others; the table output names the user.
    const again = await cli(['users', 'update', user.id, '--email-verified', 'false']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Ada Lovelace');
    expect(await cliJson(['users', 'show', 'profile-e2e@example.com'])).toMatchObject({
      ...profile,
      email_verified: false,
    });
    // The server's rule, as a clear error with no change; no option at all is a usage error.
    const bad = await cli(['users', 'update', user.id, '--picture', 'http://img.example.com/a.png']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"picture" must be an https URL.');
    const none = await cli(['users', 'update', user.id]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give at least one field to change');
    expect((await cliJson(['users', 'show', user.id])).picture).toBe('https://img.example.com/ada.png');
  });

  it('manages resource servers (issue 13): create, a token bound to it, list, update, delete', async () => {
    const created = await cliJson([
      'resources',
      'create',
      'https://MCP.example.com/mcp/',
      '--name',
      'E2E MCP',
      '--scope',
      'mcp:tools',
    ]);
    expect(created).toMatchObject({ resource: 'https://mcp.example.com/mcp', scopes: ['mcp:tools'], builtin: false });
    const client = await cliJson(['clients', 'create', '--name', 'rs-e2e', '--grant', 'client_credentials']);
    const res = await fetch(`${origin}/oauth2/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fmcp.example.com%2Fmcp',
    });
    expect(res.status).toBe(200);
    const { access_token } = await res.json();
    expect(JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()).aud).toBe(
      'https://mcp.example.com/mcp',
    );
    const all = await cliJson(['resources', 'list']);
    expect(all.map((r) => r.resource)).toContain('https://mcp.example.com/mcp');
    expect(all[0].builtin).toBe(true);
    const updated = await cliJson([
      'resources',
      'update',
      'https://mcp.example.com/mcp',
      '--scope',
      'a',
      '--scope',
      'b',
    ]);
    expect(updated.scopes).toEqual(['a', 'b']);
    expect((await cli(['resources', 'delete', 'https://mcp.example.com/mcp'])).code).not.toBe(0); // needs --yes
    expect(await cliJson(['resources', 'delete', 'https://mcp.example.com/mcp', '--yes'])).toEqual({
      deleted: 'https://mcp.example.com/mcp',
    });
    expect((await cli(['resources', 'show', 'https://mcp.example.com/mcp'])).code).not.toBe(0);
  });

  it('limits the resources a client may ask for (issue 13: --allowed-resources), then allows all again', async () => {
    const uri = 'https://allowed.example.com/mcp';
    const token = (client, resource) =>
      fetch(`${origin}/oauth2/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...(resource ? { resource } : {}) }).toString(),
      });
    await cliJson(['resources', 'create', uri, '--name', 'Allowed', '--scope', 'tools']);
    const client = await cliJson(['clients', 'create', '--name', 'limited-e2e', '--allowed-resources', `${uri}/`]);
    expect(client.allowed_resources).toEqual([uri]);
    const refused = await token(client);
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toBe('invalid_target');
    expect((await token(client, uri)).status).toBe(200);
    const both = await cliJson(['clients', 'update', client.client_id, '--allowed-resources', `${uri}, ${origin}/v1`]);
    expect(both.allowed_resources).toHaveLength(2);
    const unknown = await cli(['clients', 'update', client.client_id, '--allowed-resources', 'https://nobody.example']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('is not a registered resource server');
    const all = await cliJson(['clients', 'update', client.client_id, '--allowed-resources', 'all']);
    expect(all.allowed_resources).toBeNull();
    expect((await cliJson(['clients', 'show', client.client_id])).allowed_resources).toBeNull();
  });

  it('sets the refresh-token policy and the PKCE switch (issue 11), refused for a public client', async () => {
    const c = await cliJson([
      'clients',
      'create',
      '--name',
      'Seed 000 partner',
      '--grant',
      'password',
      '--grant',
      'refresh_token',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      'https://partner.example/cb',
      '--refresh-token-policy',
      'reuse',
      '--require-pkce',
      'false',
    ]);
    expect(c).toMatchObject({ refresh_token_policy: 'reuse', require_pkce: false, confidential: true });
    const user = await cliJson(['users', 'create', '--email', 'seed000@example.com']);
    const tokenCall = (body) =>
      fetch(`${origin}/oauth2/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${btoa(`${c.client_id}:${c.client_secret}`)}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(body),
      }).then((r) => r.json());
    const first = (
      await tokenCall({ grant_type: 'password', username: 'seed000@example.com', password: user.password })
    ).refresh_token;
    for (let i = 0; i < 2; i++)
      expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: first })).refresh_token).toBe(first);

    const updated = await cliJson([
      'clients',
      'update',
      c.client_id,
      '--refresh-token-policy',
      'rotate',
      '--require-pkce',
      'true',
    ]);
    expect(updated).toMatchObject({ refresh_token_policy: 'rotate', require_pkce: true });
    expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: first })).refresh_token).not.toBe(first);

    const spa = [
      'clients',
      'create',
      '--name',
      'SPA',
      '--public',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      'https://spa.example/cb',
    ];
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
    const down = await run(
      process.execPath,
      [join(root, 'scripts', 'admin.mjs'), 'clients', 'list', '--url', 'http://127.0.0.1:9'],
      {
        env: { ...process.env, ADMIN_TOKEN: 'x' },
      },
    ).catch((e) => e);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
  });
});
