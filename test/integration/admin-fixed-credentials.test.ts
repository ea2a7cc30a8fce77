/**
 * POST /admin/clients with an operator-chosen client_id and client_secret (src/oauth/fixed-credentials.ts): how
 * `npm start` seeds its demo client through the product with the same credentials on every run.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { call, errorOf, expectTokens, tokenRequest } from '../helpers';
import { admin, json } from '../ops-helpers';

const SECRET = 'demo-secret-0123456789abcdefghijklmnopqrstu'; // 43 characters, like a generated one
const body = (extra: Record<string, unknown>) => ({
  client_name: 'Demo app',
  grant_types: ['client_credentials'],
  scope: 'base files',
  ...extra,
});

describe('admin API: fixed client_id and client_secret', () => {
  it('creates the client with them, stores only the hash, and the client authenticates with them', async () => {
    const res = await admin('POST', '/clients', body({ client_id: 'demo-fixed-1', client_secret: SECRET }));
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const created = await json<{ client_id: string; client_secret: string }>(res, 201);
    expect(created).toMatchObject({ client_id: 'demo-fixed-1', client_secret: SECRET, client_secret_expires_at: 0 });

    const row = await env.DB.prepare('SELECT secret_hash FROM clients WHERE id = ?1')
      .bind('demo-fixed-1')
      .first<{ secret_hash: string }>();
    expect(row!.secret_hash).toBe(await sha256(SECRET));
    const dump = JSON.stringify(await env.DB.prepare('SELECT * FROM clients WHERE id = ?1').bind('demo-fixed-1').all());
    expect(dump).not.toContain(SECRET);

    const tokens = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials' }, { client: { id: 'demo-fixed-1', secret: SECRET } }),
    );
    expect(tokens.scope).toBe('base'); // the default scope (README)
    const events = await json<{ events: { event: string; subject: string; detail: unknown }[] }>(
      await admin('GET', '/audit?event=client_created'),
      200,
    );
    expect(events.events.find((e) => e.subject === 'demo-fixed-1')?.detail).toMatchObject({
      fixed_id: true,
      fixed_secret: true,
    });
  });

  it('takes a fixed client_id alone and generates the secret', async () => {
    const created = await json<{ client_id: string; client_secret: string }>(
      await admin('POST', '/clients', body({ client_id: 'demo-fixed-2' })),
      201,
    );
    expect(created.client_id).toBe('demo-fixed-2');
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses an id that exists with 409 and leaves the existing client unchanged', async () => {
    await json(await admin('POST', '/clients', body({ client_id: 'demo-fixed-3', client_secret: SECRET })), 201);
    const again = await admin(
      'POST',
      '/clients',
      body({ client_id: 'demo-fixed-3', client_secret: `${SECRET}x`, client_name: 'Other' }),
    );
    expect(again.status).toBe(409);
    expect(again.headers.get('Content-Type')).toContain('application/json');
    expect(await errorOf(again)).toEqual({
      status: 409,
      error: 'invalid_client_metadata',
      description: 'A client with the id "demo-fixed-3" already exists.',
    });
    expect(
      (await tokenRequest({ grant_type: 'client_credentials' }, { client: { id: 'demo-fixed-3', secret: SECRET } }))
        .status,
    ).toBe(200);
  });

  it.each([
    [
      { client_id: 'a b c' },
      '"client_id" must be 3 to 128 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      { client_id: 'id:with:colon' },
      '"client_id" must be 3 to 128 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      { client_id: 42 },
      '"client_id" must be 3 to 128 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      { client_id: 'x'.repeat(129) },
      '"client_id" must be 3 to 128 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      { client_secret: 'short' },
      '"client_secret" must be 32 to 256 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      { client_secret: `${'s'.repeat(40)}\n` },
      '"client_secret" must be 32 to 256 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    ],
    [
      {
        client_secret: SECRET,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        redirect_uris: ['https://app.example/cb'],
      },
      'A public client (token_endpoint_auth_method "none") has no secret, so "client_secret" cannot be given.',
    ],
  ])('refuses %j with 400 invalid_client_metadata and creates nothing', async (extra, description) => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first<{ n: number }>();
    const res = await admin('POST', '/clients', body(extra));
    expect(res.status).toBe(400);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await errorOf(res)).toEqual({ status: 400, error: 'invalid_client_metadata', description });
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it('is not offered by dynamic registration: the server issues the id and secret there (RFC 7591 §3.2.1)', async () => {
    const iat = (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', {}), 201))
      .initial_access_token;
    const res = await call('/oauth2/register', {
      method: 'POST',
      headers: { Authorization: `Bearer ${iat}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Chooser',
        redirect_uris: ['https://app.example/cb'],
        client_id: 'chosen-id',
        client_secret: SECRET,
      }),
    });
    const reg = await json<{ client_id: string; client_secret: string }>(res, 201);
    expect(reg.client_id).not.toBe('chosen-id');
    expect(reg.client_secret).not.toBe(SECRET);
  });
});
