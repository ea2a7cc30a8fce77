/**
 * Fault matrix, admin API and dynamic registration (issue 16, docs/fault-matrix.md): create client, rotate secret,
 * delete client, resource servers, key rotation, RFC 7591 registration; every storage call failed in turn.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { seedClient, type TestClient } from '../helpers';
import { ADMIN_TOKEN, admin, json } from '../ops-helpers';
import { count, formRequest, jsonRequest, quickUser, seedRefreshToken } from './fixtures';
import { sendClean } from './harness';
import { auditRowsOf, newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();

const kvEntry = (id: string) => env.CACHE.get(`client:${id}`);

function status(out: Outcome, want: number): Record<string, unknown> {
  expect(out.res.status, out.body.slice(0, 300)).toBe(want);
  return out.body ? (JSON.parse(out.body) as Record<string, unknown>) : {};
}

describe('fault matrix: admin API and registration', () => {
  it('create client (admin)', async () => {
    const name = () => `Fault app ${crypto.randomUUID()}`;
    await runOperation<{ name: string }>(
      {
        name: 'admin create client',
        surface: 'json',
        setup: async () => ({ name: name() }),
        request: ({ name }) =>
          jsonRequest('POST', '/admin/clients', ADMIN_TOKEN, {
            client_name: name,
            grant_types: ['client_credentials'],
          }),
        ok: (out) => expect(status(out, 201).client_secret).toBeTruthy(),
        // A new id was never cached: clearing it is best effort (src/services/create-client.ts dropCachedCopy).
        bestEffort: [/^KV\.delete client:/],
        // A client row is never without its audit row, and vice versa (one batch).
        consistent: async ({ name }) => {
          const ids = await env.DB.prepare('SELECT id FROM clients WHERE name = ?1').bind(name).all<{ id: string }>();
          for (const { id } of ids.results)
            expect(
              await count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_created' AND subject = ?1", id),
            ).toBe(1);
        },
        happened: async ({ name }) => (await count('SELECT COUNT(*) AS n FROM clients WHERE name = ?1', name)) > 0,
      },
      tally,
    );
  });

  it('rotate secret (admin): the old secret stops working once the new one is stored', async () => {
    await runOperation<TestClient>(
      {
        name: 'admin rotate secret',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          // The client is in the KV cache, as a client in use would be.
          await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client));
          return client;
        },
        request: (c) => jsonRequest('POST', `/admin/clients/${c.id}/rotate-secret`, ADMIN_TOKEN),
        ok: (out) => expect(status(out, 200).client_secret).toBeTruthy(),
        consistent: async (c) => {
          const row = (await env.DB.prepare('SELECT secret_hash FROM clients WHERE id = ?1')
            .bind(c.id)
            .first<{ secret_hash: string }>())!;
          const rotated = row.secret_hash !== (await sha256(c.secret));
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_secret_rotated' AND subject = ?1",
              c.id,
            ),
          ).toBe(rotated ? 1 : 0);
        },
        happened: async (c) =>
          (await count(
            'SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND secret_hash <> ?2',
            c.id,
            await sha256(c.secret),
          )) > 0,
        retry: async (c) => {
          const again = await sendClean(jsonRequest('POST', `/admin/clients/${c.id}/rotate-secret`, ADMIN_TOKEN));
          const secret = status(again, 200).client_secret as string;
          // After the retry the KV copy says the new secret: the old one is refused, the new one works.
          const old = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, c));
          expect(old.res.status).toBe(401);
          const fresh = await sendClean(
            formRequest('/oauth2/token', { grant_type: 'client_credentials' }, { id: c.id, secret }),
          );
          expect(fresh.res.status).toBe(200);
        },
      },
      tally,
    );
  });

  it('delete client (admin): a deleted client has no live tokens and no cached copy', async () => {
    interface S {
      client: TestClient;
      refresh: string;
    }
    await runOperation<S>(
      {
        name: 'admin delete client',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          const refresh = await seedRefreshToken(client.id, user.id);
          await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client)); // cached in KV
          return { client, refresh };
        },
        request: ({ client }) => jsonRequest('DELETE', `/admin/clients/${client.id}`, ADMIN_TOKEN),
        ok: (out) => expect(out.res.status, out.body).toBe(204),
        consistent: async ({ client }) => {
          const gone = (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', client.id)) === 0;
          const tokens = await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1', client.id);
          const denied = await count(
            "SELECT COUNT(*) AS n FROM revocations WHERE kind = 'client' AND value = ?1",
            client.id,
          );
          if (gone) {
            expect(tokens).toBe(0);
            expect(denied).toBe(1);
          } else {
            expect(tokens).toBe(1);
            expect(denied).toBe(0);
          }
        },
        happened: async ({ client }) =>
          (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', client.id)) === 0,
        retry: async ({ client }) => {
          const again = await sendClean(jsonRequest('DELETE', `/admin/clients/${client.id}`, ADMIN_TOKEN));
          // Deleted by the failed request already (its reply was lost): 404 says it is gone, which is what was asked.
          expect([204, 404], again.body).toContain(again.res.status);
          const cached = await kvEntry(client.id);
          expect(cached === null || cached.includes('"missing"'), `stale KV copy: ${cached}`).toBe(true);
          const token = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client));
          expect(token.res.status).toBe(401);
        },
      },
      tally,
    );
  });

  it('disable client (admin): tokens deny-listed with the status change, or neither', async () => {
    await runOperation<TestClient>(
      {
        name: 'admin disable client',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client)); // cached in KV
          return client;
        },
        request: (c) => jsonRequest('POST', `/admin/clients/${c.id}/disable`, ADMIN_TOKEN),
        ok: (out) => expect(status(out, 200).status).toBe('disabled'),
        consistent: async (c) => {
          const disabled = await count("SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND status = 'disabled'", c.id);
          expect(await count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'client' AND value = ?1", c.id)).toBe(
            disabled,
          );
        },
        happened: async (c) =>
          (await count("SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND status = 'disabled'", c.id)) === 1,
        // Disabling again is harmless and clears the cache: afterwards the client cannot get a token.
        retry: async (c) => {
          const again = await sendClean(jsonRequest('POST', `/admin/clients/${c.id}/disable`, ADMIN_TOKEN));
          expect(status(again, 200).status).toBe('disabled');
          const token = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, c));
          expect(token.res.status).toBe(401);
        },
      },
      tally,
    );
  });

  it('enable client and enable user (admin): the status changes with its audit row, or neither', async () => {
    await runOperation<TestClient>(
      {
        name: 'admin enable client',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          expect(
            (await sendClean(jsonRequest('POST', `/admin/clients/${client.id}/disable`, ADMIN_TOKEN))).res.status,
          ).toBe(200);
          return client;
        },
        request: (c) => jsonRequest('POST', `/admin/clients/${c.id}/enable`, ADMIN_TOKEN),
        ok: (out) => expect(status(out, 200).status).toBe('active'),
        happened: async (c) =>
          (await count("SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND status = 'active'", c.id)) === 1,
        // Enabling again is harmless and clears the cache: afterwards the client gets a token.
        retry: async (c) => {
          const again = await sendClean(jsonRequest('POST', `/admin/clients/${c.id}/enable`, ADMIN_TOKEN));
          expect(status(again, 200).status).toBe('active');
          const token = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, c));
          expect(token.res.status, token.body).toBe(200);
        },
      },
      tally,
    );
    await runOperation<{ id: string; email: string }>(
      {
        name: 'admin enable user',
        surface: 'json',
        setup: async () => {
          const user = await quickUser();
          expect(
            (await sendClean(jsonRequest('POST', `/admin/users/${user.id}/disable`, ADMIN_TOKEN))).res.status,
          ).toBe(200);
          return user;
        },
        request: (u) => jsonRequest('POST', `/admin/users/${u.id}/enable`, ADMIN_TOKEN),
        ok: (out) => expect(status(out, 200).status).toBe('active'),
        happened: async (u) =>
          (await count("SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND status = 'active'", u.id)) === 1,
        retry: async (u) => {
          const again = await sendClean(jsonRequest('POST', `/admin/users/${u.id}/enable`, ADMIN_TOKEN));
          expect(status(again, 200).status).toBe('active');
        },
      },
      tally,
    );
  });

  it('disable user and reset password (admin): sessions and refresh tokens end with the change, or nothing does', async () => {
    interface S {
      user: { id: string };
      refresh: string;
    }
    const setup = async (): Promise<S> => {
      const client = await seedClient();
      const user = await quickUser();
      return { user, refresh: await seedRefreshToken(client.id, user.id) };
    };
    const liveRefresh = (s: S) =>
      count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?1 AND revoked_at IS NULL', s.user.id);
    await runOperation<S>(
      {
        name: 'admin disable user',
        surface: 'json',
        setup,
        request: (s) => jsonRequest('POST', `/admin/users/${s.user.id}/disable`, ADMIN_TOKEN),
        ok: (out) => expect(status(out, 200).status).toBe('disabled'),
        consistent: async (s) => {
          const disabled = await count(
            "SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND status = 'disabled'",
            s.user.id,
          );
          expect(await liveRefresh(s)).toBe(1 - disabled);
        },
        happened: async (s) =>
          (await count("SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND status = 'disabled'", s.user.id)) === 1,
      },
      tally,
    );
    await runOperation<S>(
      {
        name: 'admin reset password',
        surface: 'json',
        setup,
        request: (s) => jsonRequest('POST', `/admin/users/${s.user.id}/password`, ADMIN_TOKEN, {}),
        ok: (out) => expect(status(out, 200).password).toBeTruthy(),
        consistent: async (s) => {
          const reset = await count(
            "SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND password_hash <> 'x'",
            s.user.id,
          );
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'user_updated' AND subject = ?1",
              s.user.id,
            ),
          ).toBe(reset);
        },
        happened: async (s) =>
          (await count("SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND password_hash <> 'x'", s.user.id)) === 1,
      },
      tally,
    );
  });

  it('resource servers (admin): create and delete', async () => {
    const uri = () => `https://rs-${crypto.randomUUID().slice(0, 8)}.example/api`;
    await runOperation<{ uri: string }>(
      {
        name: 'admin create resource',
        surface: 'json',
        setup: async () => ({ uri: uri() }),
        request: ({ uri }) =>
          jsonRequest('POST', '/admin/resources', ADMIN_TOKEN, { resource: uri, name: 'RS', scopes: ['x'] }),
        ok: (out, { uri }) => expect(status(out, 201).resource).toBe(uri),
        consistent: async ({ uri }) => {
          const rows = await count('SELECT COUNT(*) AS n FROM resource_servers WHERE uri = ?1', uri);
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'resource_server_created' AND subject = ?1",
              uri,
            ),
          ).toBe(rows);
        },
        happened: async ({ uri }) =>
          (await count('SELECT COUNT(*) AS n FROM resource_servers WHERE uri = ?1', uri)) > 0,
      },
      tally,
    );
    await runOperation<{ uri: string }>(
      {
        name: 'admin delete resource',
        surface: 'json',
        setup: async () => {
          const u = uri();
          await json(await admin('POST', '/resources', { resource: u, name: 'RS', scopes: ['x'] }), 201);
          return { uri: u };
        },
        request: ({ uri }) => jsonRequest('DELETE', `/admin/resources/${encodeURIComponent(uri)}`, ADMIN_TOKEN),
        ok: (out) => expect(out.res.status, out.body).toBe(204),
        consistent: async ({ uri }) => {
          const rows = await count('SELECT COUNT(*) AS n FROM resource_servers WHERE uri = ?1', uri);
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'resource_server_deleted' AND subject = ?1",
              uri,
            ),
          ).toBe(1 - rows);
        },
        happened: async ({ uri }) =>
          (await count('SELECT COUNT(*) AS n FROM resource_servers WHERE uri = ?1', uri)) === 0,
      },
      tally,
    );
  });

  it('key rotation (admin): stage, or promote with force', async () => {
    /** What a rotation step changes: the keys (a staged ES256 key and its RS256 sibling), promotions, audit rows. */
    const keyState = async () => ({
      staged: await count("SELECT COUNT(*) AS n FROM signing_keys WHERE alg <> 'RS256'"),
      promoted: await count("SELECT COUNT(*) AS n FROM signing_keys WHERE alg <> 'RS256' AND activated_at IS NOT NULL"),
      audited: await count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'keys_rotated'"),
    });
    type S = Awaited<ReturnType<typeof keyState>>;
    const steps = (before: S, after: S) => after.staged - before.staged + (after.promoted - before.promoted);
    await runOperation<S>(
      {
        name: 'admin key rotation',
        surface: 'json',
        setup: keyState,
        request: () => jsonRequest('POST', '/admin/keys/rotate', ADMIN_TOKEN, { force: true }),
        ok: (out) => expect(status(out, 200).step).toMatch(/^(staged|promoted)$/),
        // A step is written with its audit row or not at all; never two staged or current keys of one algorithm.
        consistent: async (before) => {
          const after = await keyState();
          expect(after.audited - before.audited).toBe(steps(before, after));
          expect(steps(before, after)).toBeLessThanOrEqual(1);
          expect(
            await count("SELECT COUNT(*) AS n FROM signing_keys WHERE state = 'next' AND alg <> 'RS256'"),
          ).toBeLessThanOrEqual(1);
          expect(
            await count("SELECT COUNT(*) AS n FROM signing_keys WHERE state = 'current' AND alg <> 'RS256'"),
          ).toBeLessThanOrEqual(1);
        },
        happened: async (before) => steps(before, await keyState()) === 1,
      },
      tally,
    );
  });

  it('dynamic registration (RFC 7591) with a single-use initial access token', async () => {
    interface S {
      iat: string;
      name: string;
    }
    await runOperation<S>(
      {
        name: 'registration',
        surface: 'json',
        setup: async () => {
          const { initial_access_token } = await json<{ initial_access_token: string }>(
            await admin('POST', '/initial-access-tokens', { max_uses: 1 }),
            201,
          );
          return { iat: initial_access_token, name: `Reg ${crypto.randomUUID()}` };
        },
        request: ({ iat, name }) =>
          jsonRequest('POST', '/oauth2/register', iat, {
            client_name: name,
            redirect_uris: ['https://partner.example/cb'],
            grant_types: ['authorization_code', 'refresh_token'],
            scope: 'files',
          }),
        ok: (out) => expect(status(out, 201).registration_access_token).toBeTruthy(),
        bestEffort: [/^KV\.delete client:/], // as for the admin's create: a new id was never cached
        // A spent initial access token has its client: a failure must not use up a single-use token.
        consistent: async ({ iat, name }) => {
          const uses = await count('SELECT uses AS n FROM initial_access_tokens WHERE hash = ?1', await sha256(iat));
          const clients = await count('SELECT COUNT(*) AS n FROM clients WHERE name = ?1', name);
          expect(uses, 'initial access token spent without a client').toBe(clients);
        },
        happened: async ({ name }) => (await count('SELECT COUNT(*) AS n FROM clients WHERE name = ?1', name)) > 0,
      },
      tally,
    );
  });

  it('PATCH a client (admin), allowed_resources included: the change and its audit row, or neither', async () => {
    interface S {
      client: TestClient;
      uri: string;
    }
    const changed = (s: S) =>
      count(
        "SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND name = 'Patched' AND allowed_resources LIKE ?2",
        s.client.id,
        `%${s.uri}%`,
      );
    await runOperation<S>(
      {
        name: 'admin PATCH client',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const uri = `https://rs-${crypto.randomUUID().slice(0, 8)}.example/api`;
          await json(await admin('POST', '/resources', { resource: uri, name: 'RS', scopes: ['x'] }), 201);
          await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client)); // cached in KV
          return { client, uri };
        },
        request: (s) =>
          jsonRequest('PATCH', `/admin/clients/${s.client.id}`, ADMIN_TOKEN, {
            client_name: 'Patched',
            allowed_resources: [s.uri],
          }),
        ok: (out, s) => {
          const body = status(out, 200);
          expect(body.client_name).toBe('Patched');
          expect(body.allowed_resources).toEqual([s.uri]);
        },
        consistent: async (s) => {
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_updated' AND subject = ?1",
              s.client.id,
            ),
          ).toBe(await changed(s));
        },
        happened: async (s) => (await changed(s)) === 1,
        retry: async (s) => {
          const again = await sendClean(
            jsonRequest('PATCH', `/admin/clients/${s.client.id}`, ADMIN_TOKEN, {
              client_name: 'Patched',
              allowed_resources: [s.uri],
            }),
          );
          expect(status(again, 200).allowed_resources).toEqual([s.uri]);
          // The cache was dropped after the change: the KV copy, if any, says the new allowed resources.
          const cached = await kvEntry(s.client.id);
          if (cached && !cached.includes('"missing"')) expect(cached).toContain(s.uri);
        },
      },
      tally,
    );
  });

  it("PATCH a user's profile (admin): the change and its audit row in one batch, or neither", async () => {
    const patched = (u: { id: string }) =>
      count("SELECT COUNT(*) AS n FROM users WHERE id = ?1 AND name = 'Ada Lovelace'", u.id);
    await runOperation<{ id: string }>(
      {
        name: 'admin PATCH user',
        surface: 'json',
        setup: quickUser,
        request: (u) =>
          jsonRequest('PATCH', `/admin/users/${u.id}`, ADMIN_TOKEN, { name: 'Ada Lovelace', given_name: 'Ada' }),
        ok: (out) => expect(status(out, 200).name).toBe('Ada Lovelace'),
        consistent: async (u) => {
          expect(
            await count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'user_updated' AND subject = ?1", u.id),
          ).toBe(await patched(u));
        },
        happened: async (u) => (await patched(u)) === 1,
      },
      tally,
    );
  });

  it('create user (admin): the user with its audit row, or neither; the retry creates it', async () => {
    const created = (email: string) => count('SELECT COUNT(*) AS n FROM users WHERE email = ?1', email);
    await runOperation<{ email: string }>(
      {
        name: 'admin create user',
        surface: 'json',
        setup: async () => ({ email: `new-${crypto.randomUUID().slice(0, 8)}@faults.example` }),
        request: ({ email }) =>
          jsonRequest('POST', '/admin/users', ADMIN_TOKEN, { email, password: 'correct horse 9' }),
        ok: (out, { email }) => expect(status(out, 201).email).toBe(email),
        consistent: async ({ email }) => {
          const n = await created(email);
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events a JOIN users u ON u.id = a.subject WHERE a.event = 'user_created' AND u.email = ?1",
              email,
            ),
          ).toBe(n);
        },
        happened: async ({ email }) => (await created(email)) === 1,
      },
      tally,
    );
  });

  it('issue an initial access token (admin): the token with its audit row, or neither', async () => {
    const issuedFor = async (out: Outcome) =>
      count(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'initial_access_token_issued' AND request_id = ?1",
        out.res.headers.get('X-Request-Id'),
      );
    await runOperation<{ label: string }>(
      {
        name: 'admin issue initial access token',
        surface: 'json',
        setup: async () => ({ label: `iat ${crypto.randomUUID()}` }),
        request: ({ label }) =>
          jsonRequest('POST', '/admin/initial-access-tokens', ADMIN_TOKEN, { label, max_uses: 1 }),
        ok: (out) => expect(status(out, 201).initial_access_token).toBeTruthy(),
        consistent: async ({ label }, failed) => {
          const tokens = await count('SELECT COUNT(*) AS n FROM initial_access_tokens WHERE label = ?1', label);
          expect(tokens).toBeLessThanOrEqual(1);
          expect(await issuedFor(failed)).toBe(tokens);
        },
        happened: async ({ label }) =>
          (await count('SELECT COUNT(*) AS n FROM initial_access_tokens WHERE label = ?1', label)) === 1,
      },
      tally,
    );
  });

  it('RFC 7592 update and delete with the registration access token', async () => {
    interface S {
      id: string;
      secret: string;
      rat: string;
    }
    const APP = { redirect_uris: ['https://partner.example/cb'], grant_types: ['authorization_code'], scope: 'base' };
    const registered = async (): Promise<S> => {
      const { initial_access_token: iat } = await json<{ initial_access_token: string }>(
        await admin('POST', '/initial-access-tokens', {}),
        201,
      );
      const out = await sendClean(jsonRequest('POST', '/oauth2/register', iat, { ...APP, client_name: 'RFC 7592' }));
      const reg = status(out, 201) as { client_id: string; client_secret: string; registration_access_token: string };
      const s = { id: reg.client_id, secret: reg.client_secret, rat: reg.registration_access_token };
      // In use: its record is in the KV cache (the grant is refused, the client authenticated).
      await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, s));
      expect(await kvEntry(s.id)).toContain(s.id);
      return s;
    };
    await runOperation<S>(
      {
        name: 'RFC 7592 read',
        surface: 'json',
        setup: registered,
        request: (s) => jsonRequest('GET', `/oauth2/register/${s.id}`, s.rat),
        ok: (out, s) => {
          const body = status(out, 200);
          expect(body.client_id).toBe(s.id);
          expect(body.registration_client_uri).toMatch(new RegExp(`/oauth2/register/${s.id}$`));
          expect(out.res.headers.get('Cache-Control')).toBe('no-store');
        },
        // A read writes nothing: the client and its registration are untouched.
        consistent: async (s) => {
          expect(await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', s.id)).toBe(1);
          expect(await count('SELECT COUNT(*) AS n FROM client_registrations WHERE client_id = ?1', s.id)).toBe(1);
        },
      },
      tally,
    );
    await runOperation<S>(
      {
        name: 'RFC 7592 update',
        surface: 'json',
        setup: registered,
        request: (s) =>
          jsonRequest('PUT', `/oauth2/register/${s.id}`, s.rat, { ...APP, client_id: s.id, client_name: 'Renamed' }),
        ok: (out) => expect(status(out, 200).client_name).toBe('Renamed'),
        // The update and its audit row are one batch (src/services/update-client.ts): both or neither.
        consistent: async (s) => {
          const renamed = await count("SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND name = 'Renamed'", s.id);
          expect(
            await count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_updated' AND subject = ?1", s.id),
          ).toBe(renamed);
        },
        happened: async (s) =>
          (await count("SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND name = 'Renamed'", s.id)) === 1,
      },
      tally,
    );
    await runOperation<S>(
      {
        name: 'RFC 7592 delete',
        surface: 'json',
        setup: registered,
        request: (s) => jsonRequest('DELETE', `/oauth2/register/${s.id}`, s.rat),
        ok: (out) => expect(out.res.status, out.body).toBe(204),
        consistent: async (s) => {
          const gone = (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', s.id)) === 0;
          expect(await count('SELECT COUNT(*) AS n FROM client_registrations WHERE client_id = ?1', s.id)).toBe(
            gone ? 0 : 1,
          );
        },
        happened: async (s) => (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', s.id)) === 0,
        // Deleted by the failed request already: the registration token went with it, so the retry is refused (401,
        // as RFC 7592 §2.3 answers for a deleted client) and the stale KV copy is dropped.
        retry: async (s) => {
          const again = await sendClean(jsonRequest('DELETE', `/oauth2/register/${s.id}`, s.rat));
          expect([204, 401], again.body).toContain(again.res.status);
          const cached = await kvEntry(s.id);
          expect(cached === null || cached.includes('"missing"'), `stale KV copy: ${cached?.slice(0, 80)}`).toBe(true);
        },
      },
      tally,
    );
  });

  it('registration with a spent initial access token writes nothing (the INSERTs after the spend are conditional)', async () => {
    const { initial_access_token: iat } = await json<{ initial_access_token: string }>(
      await admin('POST', '/initial-access-tokens', { max_uses: 1 }),
      201,
    );
    const body = (name: string) => ({ client_name: name, redirect_uris: ['https://partner.example/cb'] });
    expect((await sendClean(jsonRequest('POST', '/oauth2/register', iat, body('Spent first')))).res.status).toBe(201);
    const refused = await sendClean(jsonRequest('POST', '/oauth2/register', iat, body('Spent second')));
    expect(refused.res.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'invalid_token' });
    expect(await count("SELECT COUNT(*) AS n FROM clients WHERE name = 'Spent second'")).toBe(0);
    expect(
      await count(
        'SELECT COUNT(*) AS n FROM client_registrations r LEFT JOIN clients c ON c.id = r.client_id WHERE c.id IS NULL',
      ),
    ).toBe(0);
    expect(await auditRowsOf(refused)).toBe(0);
    expect(await count('SELECT uses AS n FROM initial_access_tokens WHERE hash = ?1', await sha256(iat))).toBe(1);
  });

  afterAll(() => {
    report('admin API and registration', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
  });
});
