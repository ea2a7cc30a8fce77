/**
 * Secrets at rest: after a full flow (client registration, every grant, rotation, failed sign-ins and client
 * authentications), a dump of every D1 table and every KV value holds no client secret, password, refresh
 * token, access token or key material in plaintext: only hashes.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';

/** Every row of every table in the local D1 database, as text. D1-internal tables that refuse reads are listed. */
async function dumpD1(): Promise<{ text: string; tables: string[]; refused: string[] }> {
  const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
    name: string;
  }>();
  const tables: string[] = [];
  const refused: string[] = [];
  let text = '';
  for (const { name } of results) {
    try {
      const rows = await env.DB.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all();
      tables.push(name);
      text += `\n# ${name}\n${JSON.stringify(rows.results)}`;
    } catch {
      refused.push(name);
    }
  }
  return { text, tables, refused };
}

async function dumpKV(): Promise<string> {
  let text = '';
  let cursor: string | undefined;
  do {
    const page = await env.CACHE.list(cursor ? { cursor } : {});
    for (const key of page.keys) text += `\n${key.name} ${await env.CACHE.get(key.name)}`;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return text;
}

describe('secrets at rest', () => {
  it('no plaintext secret, password, token or private key in D1 or KV after a full flow', async () => {
    const client = await seedClient();
    const user = await seedUser('a long and secret passphrase 42');
    const secrets: Record<string, string> = { clientSecret: client.secret, password: user.password };

    const cc = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base files' }, { client }),
    );
    secrets.ccAccessToken = cc.access_token;
    const pw = await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    secrets.pwAccessToken = pw.access_token;
    secrets.refresh1 = pw.refresh_token!;
    const rotated = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: pw.refresh_token! }, { client }),
    );
    secrets.refresh2 = rotated.refresh_token!;
    secrets.rotatedAccessToken = rotated.access_token;
    // Failures are recorded too (throttle, audit): the wrong values must not be stored either.
    const wrongPassword = 'not-the-password-but-close-42';
    secrets.wrongPassword = wrongPassword;
    expect(
      (await tokenRequest({ grant_type: 'password', username: user.email, password: wrongPassword }, { client }))
        .status,
    ).toBe(400);
    const wrongSecret = 'wrong-secret-value-0123456789abcdef';
    secrets.wrongSecret = wrongSecret;
    expect(
      (await tokenRequest({ grant_type: 'client_credentials' }, { client: { id: client.id, secret: wrongSecret } }))
        .status,
    ).toBe(401);
    expect((await call('/v1/me', { headers: { Authorization: `Bearer ${cc.access_token}` } })).status).toBe(200);

    // Key material from the secrets: private key scalars, the key-encryption key, the admin token.
    for (const [i, jwk] of (JSON.parse(env.SIGNING_KEYS) as { keys: { d: string }[] }).keys.entries())
      secrets[`signingKey${i}.d`] = jwk.d;
    secrets.keyEncryptionKey = env.KEY_ENCRYPTION_KEY;
    if (env.ADMIN_TOKEN) secrets.adminToken = env.ADMIN_TOKEN;

    const d1 = await dumpD1();
    const kv = await dumpKV();
    // The dump really covers the data: the tables exist and hold the rows of this flow.
    expect(d1.tables).toEqual(expect.arrayContaining(['clients', 'users', 'refresh_tokens', 'throttle']));
    expect(d1.text).toContain(client.id);
    expect(d1.text).toContain(user.email.toLowerCase());
    expect(kv).toContain(`client:${client.id}`);

    const leaks = Object.entries(secrets)
      .filter(([, value]) => d1.text.includes(value) || kv.includes(value))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
    // Also no JWT-shaped value at all (access tokens are never stored; only their jti may be, for revocation).
    expect(d1.text + kv).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./);
    // Tables D1 itself refuses to read (internal bookkeeping) are the only ones not dumped.
    expect(d1.refused.every((t) => t.startsWith('_cf_') || t.startsWith('sqlite_') || t === 'd1_migrations')).toBe(
      true,
    );
  });
});
