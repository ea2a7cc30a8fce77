/** Issue 15: the OpenID Connect standard claims of a user, edited through PATCH /admin/users/:user and read by UserInfo. */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers';
import { admin, json } from '../ops-helpers';
import { exchange, oidcAuthorize, setup } from './oidc-helpers';

describe('PATCH /admin/users/:user (Core §5.1 claims)', () => {
  it('edits the claims (by email or id), moves updated_at, and UserInfo releases them by scope', async () => {
    const { client, user } = await setup();
    const before = await json<{ updated_at: number }>(await admin('GET', `/users/${user.id}`), 200);
    const res = await admin('PATCH', `/users/${encodeURIComponent(user.email)}`, {
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      picture: 'https://img.example/ada.png',
      locale: 'en-GB',
      email_verified: true,
    });
    const body = await json<Record<string, unknown>>(res, 200);
    expect(body).toMatchObject({ id: user.id, name: 'Ada Lovelace', locale: 'en-GB', email_verified: true });
    expect(body.updated_at as number).toBeGreaterThanOrEqual(before.updated_at);
    expect(body).not.toHaveProperty('password_hash');
    const cleared = await json<Record<string, unknown>>(
      await admin('PATCH', `/users/${user.id}`, { picture: null }),
      200,
    );
    expect(cleared.picture).toBeNull();
    expect(cleared.name).toBe('Ada Lovelace'); // untouched fields stay

    const tokens = await exchange(client, await oidcAuthorize(client, user, { scope: 'openid profile' }));
    const info = (await (
      await call('/oauth2/userinfo', { headers: { Authorization: `Bearer ${tokens.access_token}` } })
    ).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ sub: user.id, name: 'Ada Lovelace', given_name: 'Ada', locale: 'en-GB' });
    expect(info.picture).toBeUndefined(); // no value: left out (Core §5.3.2)
    expect(info.email).toBeUndefined(); // not granted (scope email)
  });

  it('refuses bad values and unknown fields with invalid_request', async () => {
    const { user } = await setup();
    for (const body of [
      { picture: 'http://img.example/a.png' },
      { locale: 'not a locale' },
      { email_verified: 'yes' },
      { name: 42 },
      { email: 'other@example.com' },
    ]) {
      const res = await admin('PATCH', `/users/${user.id}`, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    expect((await admin('PATCH', '/users/usr_nobody', { name: 'x' })).status).toBe(404);
  });
});
