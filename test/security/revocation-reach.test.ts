/**
 * Issue 10 item 4: revoking a grant reaches the access tokens issued from it (RFC 7009 §2.1: revoking a refresh
 * token SHOULD also invalidate the access tokens of the same grant). Every access token of a refresh family carries
 * its `fid`; revoking the family deny-lists the fid, so /v1/me and the image routes refuse it within the
 * deny-list snapshot bound (here at once: the revoking isolate drops its snapshot) and introspection at once.
 * A client-credentials token of the same client has no family and keeps working.
 */

import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { authorizeFlow } from '../authz-helpers';
import { call, errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';
import { claimsOf, introspect, me, revokeRequest, userTokens } from '../ops-helpers';

async function expectRefused(client: TestClient, accessToken: string): Promise<void> {
  const res = await me(accessToken);
  expect(res.status).toBe(401);
  expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  expect(res.headers.get('WWW-Authenticate')).toContain('revoked');
  expect(await res.text()).toContain('invalid_token');
  // The image routes share the same check.
  const img = await call('/v1/img/anything.png', { headers: { Authorization: `Bearer ${accessToken}` } });
  expect(img.status).toBe(401);
  expect(img.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  expect(await introspect(client, accessToken)).toEqual({ active: false });
}

async function expectWorking(client: TestClient, accessToken: string): Promise<void> {
  const res = await me(accessToken);
  expect(res.status).toBe(200);
  expect((await introspect(client, accessToken)).active).toBe(true);
}

async function clientCredentials(client: TestClient): Promise<string> {
  return (await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client })))
    .access_token;
}

const refresh = (client: TestClient, refreshToken: string) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, { client });

describe('revocation reaches the access tokens of the grant (issue 10 item 4)', () => {
  it('a refresh token revoked at /oauth2/revoke takes every access token of its family with it; client_credentials unaffected', async () => {
    const { client, tokens } = await userTokens();
    const second = await expectTokens(await refresh(client, tokens.refresh_token!));
    const cc = await clientCredentials(client);
    const other = await userTokens(await seedClient()); // another family of another client: unaffected
    await expectWorking(client, tokens.access_token);
    await expectWorking(client, second.access_token);

    const res = await revokeRequest(client, { token: second.refresh_token!, token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    await expectRefused(client, tokens.access_token);
    await expectRefused(client, second.access_token);
    await expectWorking(client, cc);
    await expectWorking(other.client, other.tokens.access_token);
    expect(claimsOf(cc)).not.toHaveProperty('fid');
  });

  it('reuse detection: presenting a rotated refresh token refuses every access token of the family', async () => {
    const { client, tokens } = await userTokens();
    const second = await expectTokens(await refresh(client, tokens.refresh_token!));
    const cc = await clientCredentials(client);
    // Past REFRESH_REUSE_GRACE_SECONDS (30 s), so not a lost-reply retry (test/faults/refresh-retry.test.ts).
    const start = Date.now();
    clock.now = () => start + 31_000;
    const reused = await refresh(client, tokens.refresh_token!);
    expect(reused.status).toBe(400);
    expect((await errorOf(reused)).error).toBe('invalid_grant');
    await expectRefused(client, tokens.access_token);
    await expectRefused(client, second.access_token);
    await expectWorking(client, cc);
  });

  it('a replayed authorization code refuses the access tokens issued from it and from its refresh family', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const flow = await authorizeFlow(client, user, { scope: 'base' });
    const exchange = () =>
      tokenRequest(
        {
          grant_type: 'authorization_code',
          code: flow.code,
          redirect_uri: 'https://app.example/cb',
          code_verifier: flow.verifier!,
        },
        { client },
      );
    const first = await expectTokens(await exchange());
    const refreshed = await expectTokens(await refresh(client, first.refresh_token!));
    await expectWorking(client, refreshed.access_token);
    const replay = await exchange();
    expect(replay.status).toBe(400);
    expect((await errorOf(replay)).error).toBe('invalid_grant');
    await expectRefused(client, first.access_token);
    await expectRefused(client, refreshed.access_token);
    expect((await errorOf(await refresh(client, refreshed.refresh_token!))).error).toBe('invalid_grant');
  });

  it('a consent withdrawn in the portal refuses the access tokens the app obtained with it, also without a refresh token', async () => {
    const client = await seedClient();
    const noRefresh = await seedClient({ grantTypes: ['authorization_code', 'client_credentials'] });
    const user = await seedUser();
    const flow = await authorizeFlow(client, user, { scope: 'base' });
    const t = await expectTokens(
      await tokenRequest(
        {
          grant_type: 'authorization_code',
          code: flow.code,
          redirect_uri: 'https://app.example/cb',
          code_verifier: flow.verifier!,
        },
        { client },
      ),
    );
    const refreshed = await expectTokens(await refresh(client, t.refresh_token!));
    const flow2 = await authorizeFlow(noRefresh, user, { scope: 'base', browser: flow.browser });
    const t2 = await expectTokens(
      await tokenRequest(
        {
          grant_type: 'authorization_code',
          code: flow2.code,
          redirect_uri: 'https://app.example/cb',
          code_verifier: flow2.verifier!,
        },
        { client: noRefresh },
      ),
    );
    expect(t2.refresh_token).toBeUndefined();
    const cc = await clientCredentials(client);

    for (const [c, token] of [
      [client, refreshed.access_token],
      [noRefresh, t2.access_token],
    ] as const) {
      await expectWorking(c, token);
      const res = await flow.browser.post(`/apps/consents/${c.id}/withdraw`, { csrf: flow.browser.csrf() });
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe('/apps?done=withdrawn');
      await expectRefused(c, token);
    }
    await expectRefused(client, t.access_token);
    await expectWorking(client, cc);
  });
});
