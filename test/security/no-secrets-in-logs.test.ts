/**
 * Logs are single-line JSON with a request id and never hold a secret, a password or a full token (issue 5).
 * Captures every console line during a full flow, then looks for each secret the flow handled.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetRevocationSnapshot } from '../../src/storage/revocations';
import { call, expectTokens, seedUser, tokenRequest } from '../helpers';
import { admin, formPost, introspect, json, me } from '../ops-helpers';

const lines: string[] = [];

beforeEach(() => {
  lines.length = 0;
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
  resetRevocationSnapshot();
});
afterEach(() => vi.restoreAllMocks());

describe('logs', () => {
  it('hold no secret, password or token across a full flow, and every line is JSON with a request id', async () => {
    const secrets: string[] = [env.ADMIN_TOKEN as string];

    const created = await json<{ client_id: string; client_secret: string }>(
      await admin('POST', '/clients', {
        client_name: 'Logged',
        grant_types: ['client_credentials', 'password', 'refresh_token'],
      }),
      201,
    );
    const client = { id: created.client_id, secret: created.client_secret };
    secrets.push(client.secret);
    const user = await seedUser('a very secret password 42');
    secrets.push(user.password);

    const t = await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    secrets.push(t.access_token, t.refresh_token!);
    const r = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }, { client }),
    );
    secrets.push(r.access_token, r.refresh_token!);
    // Failures are logged too: wrong secret, wrong password, reuse of a rotated refresh token.
    await tokenRequest(
      { grant_type: 'client_credentials' },
      { client: { id: client.id, secret: 'wrong-secret-value-xyz' } },
    );
    secrets.push('wrong-secret-value-xyz');
    await tokenRequest({ grant_type: 'password', username: user.email, password: 'wrong password 99' }, { client });
    secrets.push('wrong password 99');
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }, { client });
    await me(r.access_token);
    await call(`/v1/me?access_token=${r.access_token}`);
    await introspect(client, r.access_token);
    await formPost('/oauth2/revoke', { token: r.access_token }, client);
    await me(r.access_token);

    const iat = await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens'), 201);
    secrets.push(iat.initial_access_token);
    const reg = await json<{ client_secret: string; registration_access_token: string }>(
      await call('/oauth2/register', {
        method: 'POST',
        headers: { Authorization: `Bearer ${iat.initial_access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'Reg', grant_types: ['client_credentials'] }),
      }),
      201,
    );
    secrets.push(reg.client_secret, reg.registration_access_token);
    const rot = await json<{ client_secret: string }>(await admin('POST', `/clients/${client.id}/rotate-secret`), 200);
    secrets.push(rot.client_secret);
    const pw = await json<{ password: string }>(await admin('POST', `/users/${user.id}/password`), 200);
    secrets.push(pw.password);
    await admin('GET', '/clients', undefined, 'a-wrong-admin-token-that-is-long-enough');
    secrets.push('a-wrong-admin-token-that-is-long-enough');

    expect(lines.length).toBeGreaterThan(15);
    const all = lines.join('\n');
    for (const s of secrets) {
      // Any 16-character piece of a secret would be a leak, not just the whole value.
      for (const piece of [s, s.slice(0, 16), s.slice(-16)]) expect(all).not.toContain(piece);
    }
    for (const line of lines) {
      expect(line).not.toContain('\n');
      const parsed = JSON.parse(line) as { level?: string; requestId?: string; event?: string };
      expect(parsed.level).toBeDefined();
      if (parsed.event === undefined) expect(parsed.requestId).toBeTruthy();
    }
  });
});
