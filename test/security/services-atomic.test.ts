/**
 * Issue 12: each operation of src/services/ is one D1 batch, so it is all or nothing. A trigger makes the audit insert
 * (the last statement of each batch) fail; every earlier write of the operation must be rolled back with it:
 * no deny-list row, no revoked refresh token, no ended session, no changed user, client or consent.
 * (Deleting a client: test/security/delete-client.test.ts.)
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { setClientStatus } from '../../src/services/client-status';
import { revokeGrant } from '../../src/services/revoke-grant';
import { updateClientAudited } from '../../src/services/update-client';
import { resetUserPassword, setUserStatus } from '../../src/services/user-account';
import { withdrawConsent } from '../../src/services/withdraw-consent';
import { authorizeFlow, Browser, signIn } from '../authz-helpers';
import { expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';
import { me, userTokens, withFailingAudit } from '../ops-helpers';

/** Every row an operation could touch, for a user and a client. */
async function state(userId: string, clientId: string): Promise<unknown> {
  const all = async (sql: string, ...args: unknown[]) =>
    (
      await env.DB.prepare(sql)
        .bind(...args)
        .all()
    ).results;
  return {
    users: await all('SELECT * FROM users WHERE id = ?1', userId),
    clients: await all('SELECT * FROM clients WHERE id = ?1', clientId),
    refresh: await all(
      'SELECT hash, revoked_at FROM refresh_tokens WHERE user_id = ?1 OR client_id = ?2 ORDER BY hash',
      userId,
      clientId,
    ),
    consents: await all('SELECT * FROM consents WHERE user_id = ?1 OR client_id = ?2', userId, clientId),
    sessions: await all('SELECT * FROM sessions WHERE user_id = ?1 ORDER BY hash', userId),
    revocations: await all('SELECT kind, value FROM revocations ORDER BY kind, value'),
  };
}

/** A user signed in in the browser, with a consent, a code-grant token pair and a password-grant token pair. */
async function fixture() {
  const client = await seedClient();
  const user = await seedUser();
  const flow = await authorizeFlow(client, user, { scope: 'base' });
  const code = await expectTokens(
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
  const b = new Browser();
  await signIn(b, user.email, user.password);
  const familyId = (await env.DB.prepare('SELECT family_id FROM refresh_tokens WHERE client_id = ?1')
    .bind(client.id)
    .first<{ family_id: string }>())!.family_id;
  return { client, user, code, familyId };
}

describe('services are all or nothing (issue 12)', () => {
  it.each([
    ['revokeGrant', (f: Awaited<ReturnType<typeof fixture>>) => revokeGrant(env, f.familyId, { actor: f.client.id })],
    ['withdrawConsent', (f: Awaited<ReturnType<typeof fixture>>) => withdrawConsent(env, f.user.id, f.client.id)],
    [
      'resetUserPassword',
      (f: Awaited<ReturnType<typeof fixture>>) => resetUserPassword(env, f.user.id, 'another long password'),
    ],
    ['setUserStatus disabled', (f: Awaited<ReturnType<typeof fixture>>) => setUserStatus(env, f.user.id, 'disabled')],
    [
      'setClientStatus disabled',
      (f: Awaited<ReturnType<typeof fixture>>) => setClientStatus(env, f.client.id, 'disabled'),
    ],
    [
      'updateClientAudited allowed_resources',
      (f: Awaited<ReturnType<typeof fixture>>) =>
        updateClientAudited(
          env,
          f.client.id,
          { allowedResources: ['https://x.example'] },
          { actor: 'admin', detail: {} },
        ),
    ],
  ])('%s: a failing statement leaves everything as it was', async (_name, op) => {
    const f = await fixture();
    const before = await state(f.user.id, f.client.id);
    await withFailingAudit(() => op(f));
    expect(await state(f.user.id, f.client.id)).toEqual(before);
    expect((await me(f.code.access_token)).status).toBe(200);
  });

  it('and each of them, when it succeeds, refuses the access tokens it is meant to reach', async () => {
    const { client, tokens } = await userTokens();
    const familyId = (await env.DB.prepare('SELECT family_id FROM refresh_tokens WHERE client_id = ?1')
      .bind(client.id)
      .first<{ family_id: string }>())!.family_id;
    await revokeGrant(env, familyId, { actor: client.id });
    expect((await me(tokens.access_token)).status).toBe(401);
    const c2 = await seedClient();
    const cc = await expectTokens(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client: c2 }),
    );
    expect((await setClientStatus(env, c2.id, 'disabled'))?.status).toBe('disabled');
    expect((await me(cc.access_token)).status).toBe(401);
  });
});
