/**
 * Fault matrix, token endpoint and its neighbours (issue 16, docs/fault-matrix.md): each grant, revocation and
 * introspection, every storage call failed in turn (test/faults/matrix.ts says how k and the kinds are sampled).
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { seedClient, seedUser, type TestClient } from '../helpers';
import {
  count,
  expectRotationConsistent,
  formRequest,
  quickUser,
  refreshRow,
  seedCode,
  seedRefreshToken,
} from './fixtures';
import { sendClean } from './harness';
import { CLIENT_CACHE, newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();

function tokens(out: Outcome): { access_token: string; refresh_token?: string } {
  expect(out.res.status, out.body.slice(0, 300)).toBe(200);
  expect(out.res.headers.get('Cache-Control')).toBe('no-store');
  const body = JSON.parse(out.body) as { access_token: string; token_type: string; refresh_token?: string };
  expect(body.token_type).toBe('Bearer');
  expect(body.access_token).toMatch(/^ey/);
  return body;
}

describe('fault matrix: token endpoint', () => {
  it('client_credentials', async () => {
    await runOperation(
      {
        name: 'client_credentials',
        surface: 'json',
        setup: () => seedClient(),
        request: (c) => formRequest('/oauth2/token', { grant_type: 'client_credentials' }, c),
        ok: (out) => void tokens(out),
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  it('password', async () => {
    interface S {
      client: TestClient & { id: string };
      user: { id: string; email: string; password: string };
    }
    await runOperation<S>(
      {
        name: 'password',
        surface: 'json',
        setup: async () => ({ client: await seedClient(), user: await seedUser() }),
        request: ({ client, user }) =>
          formRequest(
            '/oauth2/token',
            { grant_type: 'password', username: user.email, password: user.password },
            client,
          ),
        ok: (out) => expect(tokens(out).refresh_token).toBeTruthy(),
        bestEffort: CLIENT_CACHE,
        // A refused grant issues nothing: no refresh family without its answer.
        consistent: async ({ client }, failed) => {
          const families = await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1', client.id);
          expect(families).toBe(failed.res.status === 200 ? 1 : 0);
        },
        happened: async ({ client }) =>
          (await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1', client.id)) > 0,
      },
      tally,
    );
  });

  it('refresh_token (rotate policy): a failed rotation never loses the token', async () => {
    interface S {
      client: TestClient;
      token: string;
    }
    await runOperation<S>(
      {
        name: 'refresh_token rotate',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          return { client, token: await seedRefreshToken(client.id, user.id) };
        },
        request: ({ client, token }) =>
          formRequest('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token }, client),
        ok: (out, s) => {
          const next = tokens(out).refresh_token;
          expect(next).toBeTruthy();
          expect(next).not.toBe(s.token);
        },
        bestEffort: CLIENT_CACHE,
        consistent: ({ token }) => expectRotationConsistent(token),
        happened: async ({ token }) => (await refreshRow(token))!.used_at !== null,
      },
      tally,
    );
  });

  it('authorization_code exchange: a consumed code has its tokens', async () => {
    interface S {
      client: TestClient;
      code: string;
      verifier: string;
    }
    await runOperation<S>(
      {
        name: 'authorization_code',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          return { client, ...(await seedCode(client.id, user.id)) };
        },
        request: ({ client, code, verifier }) =>
          formRequest(
            '/oauth2/token',
            { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier },
            client,
          ),
        ok: (out) => expect(tokens(out).refresh_token).toBeTruthy(),
        bestEffort: CLIENT_CACHE,
        consistent: async ({ code }) => {
          const row = (await env.DB.prepare('SELECT used_at, issued_family_id FROM authorization_codes WHERE hash = ?1')
            .bind(await sha256(code))
            .first<{ used_at: number | null; issued_family_id: string | null }>())!;
          if (row.used_at === null) expect(row.issued_family_id).toBeNull();
          else
            expect(
              await count(
                'SELECT COUNT(*) AS n FROM refresh_tokens WHERE family_id = ?1 AND revoked_at IS NULL',
                row.issued_family_id,
              ),
            ).toBe(1);
        },
        happened: async ({ code }) =>
          (await count(
            'SELECT COUNT(*) AS n FROM authorization_codes WHERE hash = ?1 AND used_at IS NOT NULL',
            await sha256(code),
          )) > 0,
      },
      tally,
    );
  });

  it('revocation (RFC 7009) of a refresh token', async () => {
    interface S {
      client: TestClient;
      token: string;
    }
    await runOperation<S>(
      {
        name: 'revocation',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          return { client, token: await seedRefreshToken(client.id, user.id) };
        },
        request: ({ client, token }) =>
          formRequest('/oauth2/revoke', { token, token_type_hint: 'refresh_token' }, client),
        ok: async (out, { token }) => {
          expect(out.res.status, out.body).toBe(200);
          expect((await refreshRow(token))!.revoked_at).not.toBeNull();
        },
        bestEffort: CLIENT_CACHE,
        happened: async ({ token }) => (await refreshRow(token))!.revoked_at !== null,
      },
      tally,
    );
  });

  it('revocation (RFC 7009) of an access token: deny-listed with its audit row, or neither', async () => {
    interface S {
      client: TestClient;
      token: string;
      jti: string;
    }
    const denied = (s: S) => count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'jti' AND value = ?1", s.jti);
    await runOperation<S>(
      {
        name: 'revocation (access token)',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const token = tokens(
            await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client)),
          ).access_token;
          const jti = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).jti as string;
          return { client, token, jti };
        },
        request: ({ client, token }) =>
          formRequest('/oauth2/revoke', { token, token_type_hint: 'access_token' }, client),
        ok: async (out, s) => {
          expect(out.res.status, out.body).toBe(200);
          expect(await denied(s)).toBe(1);
        },
        bestEffort: CLIENT_CACHE,
        // RFC 7009 §2.1: the token is invalidated with its audit row in one batch, or nothing is written.
        consistent: async (s) => {
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'token_revoked' AND detail LIKE ?1",
              `%${s.jti}%`,
            ),
          ).toBe(await denied(s));
        },
        happened: async (s) => (await denied(s)) === 1,
      },
      tally,
    );
  });

  it('introspection (RFC 7662)', async () => {
    interface S {
      client: TestClient;
      token: string;
    }
    await runOperation<S>(
      {
        name: 'introspection',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const out = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client));
          return { client, token: tokens(out).access_token };
        },
        request: ({ client, token }) => formRequest('/oauth2/introspect', { token }, client),
        ok: (out) => {
          expect(out.res.status, out.body).toBe(200);
          expect(JSON.parse(out.body)).toMatchObject({ active: true, token_type: 'Bearer' });
        },
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  afterAll(() => {
    report('token endpoint', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
  });
});
