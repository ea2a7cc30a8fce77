/**
 * Issue 12 (first bullet) and issue 10 ("also noticed"): a client is deleted by one service (src/services/delete-client.ts)
 * whichever path asks for it, the admin API, RFC 7592 §2.3 or the portal, and every path leaves the same state: no client,
 * consents, registration access token, codes or refresh tokens, and its access tokens refused. The writes are one D1
 * batch, so a failing statement changes nothing.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteClient } from '../../src/services/delete-client';
import { newRegistration } from '../../src/storage/client-registrations';
import { authorizeFlow, Browser, signIn } from '../authz-helpers';
import { call, errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';
import { admin, claimsOf, me, withFailingAudit } from '../ops-helpers';

const CB = 'https://app.example/cb';

interface Fixture {
  client: TestClient;
  owner: { id: string; email: string; password: string };
  rat: string;
  access: string[];
  refresh: string;
}

/** A portal client with a registration access token, a consent, an unused code, and access + refresh tokens. */
async function fixture(): Promise<Fixture> {
  const owner = await seedUser();
  const client = await seedClient({ ownerUserId: owner.id });
  const reg = await newRegistration(env.DB, client.id);
  await reg.statement.run();
  const user = await seedUser();
  const flow = await authorizeFlow(client, user, { scope: 'base' });
  const t = await expectTokens(
    await tokenRequest(
      { grant_type: 'authorization_code', code: flow.code, redirect_uri: CB, code_verifier: flow.verifier! },
      { client },
    ),
  );
  await authorizeFlow(client, user, { scope: 'base', browser: flow.browser }); // an unredeemed code stays behind
  const pw = await expectTokens(
    await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
  );
  const cc = await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }));
  for (const a of [t.access_token, pw.access_token, cc.access_token]) expect((await me(a)).status).toBe(200);
  return {
    client,
    owner,
    rat: reg.token,
    access: [t.access_token, pw.access_token, cc.access_token],
    refresh: t.refresh_token!,
  };
}

async function rowsOf(clientId: string): Promise<Record<string, number>> {
  const count = async (sql: string) => (await env.DB.prepare(sql).bind(clientId).first<{ n: number }>())!.n;
  return {
    clients: await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1'),
    consents: await count('SELECT COUNT(*) AS n FROM consents WHERE client_id = ?1'),
    client_registrations: await count('SELECT COUNT(*) AS n FROM client_registrations WHERE client_id = ?1'),
    authorization_codes: await count('SELECT COUNT(*) AS n FROM authorization_codes WHERE client_id = ?1'),
    refresh_tokens: await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1'),
    deny_listed: await count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'client' AND value = ?1"),
    audited: await count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_deleted' AND subject = ?1"),
  };
}

const GONE = {
  clients: 0,
  consents: 0,
  client_registrations: 0,
  authorization_codes: 0,
  refresh_tokens: 0,
  deny_listed: 1,
  audited: 1,
};

const PATHS: [string, (f: Fixture) => Promise<Response>][] = [
  ['the admin API', (f) => admin('DELETE', `/clients/${f.client.id}`)],
  [
    'RFC 7592 DELETE',
    (f) => call(`/oauth2/register/${f.client.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${f.rat}` } }),
  ],
  [
    'the portal',
    async (f) => {
      const b = new Browser();
      await signIn(b, f.owner.email, f.owner.password);
      return b.post(`/apps/${f.client.id}/delete`, { csrf: b.csrf() });
    },
  ],
];

describe('deleting a client: one service, the same state by every path', () => {
  it.each(PATHS)('%s', async (_name, del) => {
    const f = await fixture();
    const before = await rowsOf(f.client.id);
    expect(before).toMatchObject({
      clients: 1,
      consents: 1,
      client_registrations: 1,
      refresh_tokens: 2,
      deny_listed: 0,
    });
    expect(before.authorization_codes).toBe(2);

    const res = await del(f);
    expect([204, 303]).toContain(res.status);
    expect(await rowsOf(f.client.id)).toEqual(GONE);
    for (const a of f.access) {
      const r = await me(a);
      expect(r.status).toBe(401);
      expect(r.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    }
    const refreshed = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: f.refresh },
      { client: f.client },
    );
    expect(refreshed.status).toBe(401);
    expect((await errorOf(refreshed)).error).toBe('invalid_client');
    // The registration access token is gone with it (RFC 7592 §2.3: later requests get 401).
    const read = await call(`/oauth2/register/${f.client.id}`, { headers: { Authorization: `Bearer ${f.rat}` } });
    expect(read.status).toBe(401);
    expect(read.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  });

  it('is all or nothing: when a statement of the batch fails, nothing has changed', async () => {
    const f = await fixture();
    const before = await rowsOf(f.client.id);
    // Make the audit insert (the batch's last statement) fail: the deny-list row and every delete roll back with it.
    await withFailingAudit(() => deleteClient(env, f.client.id, { actor: 'admin', via: 'admin' }));
    expect(await rowsOf(f.client.id)).toEqual(before);
    expect((await me(f.access[0])).status).toBe(200);
    expect(claimsOf(f.access[0]).client_id).toBe(f.client.id);
  });
});
