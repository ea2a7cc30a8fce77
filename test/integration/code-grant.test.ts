/** grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5, RFC 9700 §4.8.2). */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { authorizeFlow } from '../authz-helpers';
import { call, errorOf, expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';

const CB = 'https://app.example/cb';

function redeem(
  client: { id: string; secret: string },
  fields: Record<string, string | undefined>,
  publicClient = false,
) {
  const params: Record<string, string> = { grant_type: 'authorization_code' };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params[k] = v;
  if (publicClient) return tokenRequest({ ...params, client_id: client.id });
  return tokenRequest(params, { client });
}

const me = (token: string) => call('/v1/me', { headers: { Authorization: `Bearer ${token}` } });

describe('authorization_code grant', () => {
  it('issues an access token for the user, and a refresh token when the client may refresh', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { scope: 'base files' });
    const res = await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const t = await expectTokens(res);
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'base files' });
    expect(t.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const who = (await (await me(t.access_token)).json()) as Record<string, string>;
    expect(who).toMatchObject({ type: 'user', sub: user.id, client_id: client.id });
    // and the refresh token rotates
    const refreshed = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }, { client }),
    );
    expect(refreshed.scope).toBe('base files');
  });

  it('gives no refresh token to a client without the refresh_token grant', async () => {
    const client = await seedClient({ grantTypes: ['authorization_code'] });
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const t = await expectTokens(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }));
    expect(t.refresh_token).toBeUndefined();
  });

  it('lets a public client redeem with client_id only, and refuses a secret from it', async () => {
    const client = await seedClient({ confidential: false });
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const t = await expectTokens(
      await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }, true),
    );
    expect(t.access_token).toBeTruthy();
    const r2 = await authorizeFlow(client, user, { browser: r.browser });
    const withSecret = await tokenRequest({
      grant_type: 'authorization_code',
      code: r2.code,
      redirect_uri: CB,
      code_verifier: r2.verifier!,
      client_id: client.id,
      client_secret: 'x',
    });
    expect((await errorOf(withSecret)).error).toBe('invalid_client');
  });

  it('requires the confidential client to authenticate', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const res = await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }, true);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).error).toBe('invalid_client');
  });

  it('refuses a wrong verifier, then still accepts the right one', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const wrong = await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: 'x'.repeat(43) });
    expect(await errorOf(wrong)).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: expect.stringMatching(/code_verifier does not match/),
    });
    await expectTokens(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }));
  });

  it('refuses a missing verifier when the request used PKCE', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    expect(await errorOf(await redeem(client, { code: r.code, redirect_uri: CB }))).toMatchObject({
      error: 'invalid_grant',
      description: expect.stringMatching(/code_verifier.*required/),
    });
  });

  it('refuses a malformed verifier', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    expect(
      (await errorOf(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: 'short' }))).error,
    ).toBe('invalid_request');
  });

  it('refuses a PKCE downgrade: a verifier for a code issued without a challenge (RFC 9700 §4.8.2)', async () => {
    const client = await seedClient({ requirePkce: false });
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { pkce: false });
    const res = await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: 'a'.repeat(43) });
    expect(await errorOf(res)).toMatchObject({
      error: 'invalid_grant',
      description: expect.stringMatching(/no code_challenge/),
    });
    // the registered exception: this confidential client may redeem without PKCE
    await expectTokens(await redeem(client, { code: r.code, redirect_uri: CB }));
  });

  it('requires redirect_uri when it was sent to /authorize, identical', async () => {
    const client = await seedClient({ redirectUris: [CB, 'https://app.example/other'] });
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    expect(await errorOf(await redeem(client, { code: r.code, code_verifier: r.verifier! }))).toMatchObject({
      error: 'invalid_request',
      description: expect.stringMatching(/redirect_uri/),
    });
    expect(
      (
        await errorOf(
          await redeem(client, { code: r.code, redirect_uri: 'https://app.example/other', code_verifier: r.verifier! }),
        )
      ).error,
    ).toBe('invalid_grant');
    expect(
      (await errorOf(await redeem(client, { code: r.code, redirect_uri: `${CB}/`, code_verifier: r.verifier! }))).error,
    ).toBe('invalid_grant');
    await expectTokens(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }));
  });

  it('does not need redirect_uri when /authorize did not get one', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user, { redirectUri: null });
    await expectTokens(await redeem(client, { code: r.code, code_verifier: r.verifier! }));
  });

  it('refuses a code issued to another client', async () => {
    const client = await seedClient();
    const thief = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    expect(
      await errorOf(await redeem(thief, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! })),
    ).toMatchObject({ error: 'invalid_grant', description: expect.stringMatching(/another|not issued/) });
  });

  it('refuses an unknown code', async () => {
    const client = await seedClient();
    expect(
      (await errorOf(await redeem(client, { code: 'A'.repeat(43), redirect_uri: CB, code_verifier: 'b'.repeat(43) })))
        .error,
    ).toBe('invalid_grant');
  });

  it('expires the code after 60 s (injected clock)', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const start = Date.now();
    clock.now = () => start + 59_000;
    const stillValid = await authorizeFlow(client, user, { browser: r.browser });
    clock.now = () => start + 61_000;
    expect(
      await errorOf(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! })),
    ).toMatchObject({ error: 'invalid_grant', description: expect.stringMatching(/expired/) });
    await expectTokens(
      await redeem(client, { code: stillValid.code, redirect_uri: CB, code_verifier: stillValid.verifier! }),
    );
  });

  it('refuses a code whose user has been disabled', async () => {
    const { setUserStatus } = await import('../../src/services/user-account');
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    await setUserStatus(env, user.id, 'disabled');
    expect(
      (await errorOf(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }))).error,
    ).toBe('invalid_grant');
  });

  it('a second redemption fails and revokes the tokens issued from the code (RFC 6749 §4.1.2)', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const first = await expectTokens(
      await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }),
    );
    expect((await me(first.access_token)).status).toBe(200);
    // the first refresh token is rotated once, so the revocation must cover the whole family
    const rotated = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }, { client }),
    );

    const second = await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! });
    expect(await errorOf(second)).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: expect.stringMatching(/already used.*revoked/),
    });

    const after = await me(first.access_token);
    expect(after.status).toBe(401);
    expect(after.headers.get('WWW-Authenticate')).toMatch(/invalid_token/);
    expect(
      (
        await errorOf(
          await tokenRequest({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token! }, { client }),
        )
      ).error,
    ).toBe('invalid_grant');
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'code_replay' AND actor = ?1",
    )
      .bind(client.id)
      .first<{ n: number }>();
    expect(audit!.n).toBe(1);
  });

  it('a replay with a wrong verifier fails without revoking anything', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const first = await expectTokens(
      await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! }),
    );
    expect(
      (await errorOf(await redeem(client, { code: r.code, redirect_uri: CB, code_verifier: 'z'.repeat(43) }))).error,
    ).toBe('invalid_grant');
    expect((await me(first.access_token)).status).toBe(200);
  });

  it('concurrent redemptions of one code give exactly one success', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const results = await Promise.all(
      [1, 2, 3].map(() => redeem(client, { code: r.code, redirect_uri: CB, code_verifier: r.verifier! })),
    );
    expect(results.map((x) => x.status).sort()).toEqual([200, 400, 400]);
  });
});
