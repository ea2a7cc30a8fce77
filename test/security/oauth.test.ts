/**
 * Attacks on the token endpoint's grants, black box over HTTP: each asserts the exact status and RFC 6749
 * §5.2 error, and then that the legitimate party's state is what it should be afterwards.
 */
import { describe, expect, it } from 'vitest';
import { errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';

async function signIn(client: TestClient, user: { email: string; password: string }, scope?: string) {
  return expectTokens(
    await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password, ...(scope ? { scope } : {}) },
      { client },
    ),
  );
}

const refresh = (client: TestClient, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, { client });

describe('refresh tokens', () => {
  it("client B cannot use client A's refresh token, and the attempt does not burn A's token", async () => {
    const a = await seedClient();
    const b = await seedClient();
    const user = await seedUser();
    const tokens = await signIn(a, user);
    const stolen = await refresh(b, tokens.refresh_token!);
    expect(await errorOf(stolen)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(stolen.headers.get('Cache-Control')).toBe('no-store');
    // A's token is untouched: neither consumed nor its family revoked.
    const mine = await expectTokens(await refresh(a, tokens.refresh_token!));
    expect(mine.refresh_token).toBeDefined();
  });

  it('scope widening on refresh is invalid_scope, and leaves the token usable', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const tokens = await signIn(client, user, 'files');
    expect(tokens.scope).toBe('files');
    const widened = await refresh(client, tokens.refresh_token!, { scope: 'files base' });
    expect(await errorOf(widened)).toMatchObject({ status: 400, error: 'invalid_scope' });
    const widened2 = await refresh(client, tokens.refresh_token!, { scope: 'upload_files' });
    expect(await errorOf(widened2)).toMatchObject({ status: 400, error: 'invalid_scope' });
    const same = await expectTokens(await refresh(client, tokens.refresh_token!, { scope: 'files' }));
    expect(same.scope).toBe('files');
  });

  it('reuse of a rotated refresh token revokes the whole family, including the newest token (RFC 9700 §4.14.2)', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const t1 = (await signIn(client, user)).refresh_token!;
    const t2 = (await expectTokens(await refresh(client, t1))).refresh_token!;
    const t3 = (await expectTokens(await refresh(client, t2))).refresh_token!;
    // An attacker (or a confused client) replays t1.
    const replay = await refresh(client, t1);
    expect(await errorOf(replay)).toMatchObject({ status: 400, error: 'invalid_grant' });
    // The newest token of the family no longer works either…
    expect(await errorOf(await refresh(client, t3))).toMatchObject({ status: 400, error: 'invalid_grant' });
    // …while another sign-in of the same user (another family) is unaffected.
    const other = (await signIn(client, user)).refresh_token!;
    await expectTokens(await refresh(client, other));
  });

  it('an unknown, truncated or oversized refresh token is invalid_grant', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const t = (await signIn(client, user)).refresh_token!;
    for (const bad of ['x', t.slice(0, -1), `${t}A`, 'A'.repeat(600)]) {
      expect(await errorOf(await refresh(client, bad))).toMatchObject({ status: 400, error: 'invalid_grant' });
    }
    await expectTokens(await refresh(client, t));
  });
});

describe('grant restrictions', () => {
  it('password grant for a client not registered for it is unauthorized_client', async () => {
    const client = await seedClient({ grantTypes: ['client_credentials'] });
    const user = await seedUser();
    const res = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      { client },
    );
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refresh grant for a client not registered for it is unauthorized_client', async () => {
    const full = await seedClient();
    const user = await seedUser();
    const t = (await signIn(full, user)).refresh_token!;
    const limited = await seedClient({ grantTypes: ['client_credentials'] });
    expect(await errorOf(await refresh(limited, t))).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('a wrong client secret is 401 invalid_client with a Basic challenge', async () => {
    const client = await seedClient();
    const res = await tokenRequest(
      { grant_type: 'client_credentials' },
      { client: { id: client.id, secret: 'wrong' } },
    );
    expect(await errorOf(res)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(res.headers.get('WWW-Authenticate')).toBe('Basic realm="oauth", charset="UTF-8"');
  });
});
