import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock, sleeper } from '../../src/lib/clock';
import { LOCK_AFTER, LOCK_SECONDS, SLOW_AFTER } from '../../src/oauth/throttle-policy';
import { setUserStatus } from '../../src/services/user-account';
import { errorOf, expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';

describe('password grant (RFC 6749 §4.3, seed 000)', () => {
  it('answers the seed request as written: grant_type repeated in the query string', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const res = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      { client, query: 'grant_type=password' },
    );
    const body = await expectTokens(res);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'base' });
    expect(body.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('matches the email case-insensitively', async () => {
    const client = await seedClient();
    const user = await seedUser();
    await expectTokens(
      await tokenRequest(
        { grant_type: 'password', username: user.email.toUpperCase(), password: user.password },
        { client },
      ),
    );
  });

  it('gives no refresh token to a client without the refresh_token grant', async () => {
    const client = await seedClient({ grantTypes: ['password'] });
    const user = await seedUser();
    const body = await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    expect(body.refresh_token).toBeUndefined();
  });

  it('is off unless the client is registered for it (RFC 9700 §2.4): unauthorized_client', async () => {
    const client = await seedClient({ grantTypes: ['client_credentials', 'refresh_token'] });
    const user = await seedUser();
    const res = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      { client },
    );
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a password in the query string', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'password', username: 'a@b.c' }, { client, query: 'password=x' });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(err.description).toContain('request body');
  });

  it('requires username and password', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'password', username: 'a@b.c' }, { client });
    expect(await errorOf(res)).toMatchObject({
      status: 400,
      error: 'invalid_request',
      description: 'The "password" parameter is required.',
    });
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const wrong = await errorOf(
      await tokenRequest({ grant_type: 'password', username: user.email, password: 'nope' }, { client }),
    );
    const unknown = await errorOf(
      await tokenRequest({ grant_type: 'password', username: 'ghost@example.com', password: 'nope' }, { client }),
    );
    expect(wrong).toEqual(unknown);
    expect(wrong).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('audits a failed login without the password', async () => {
    const client = await seedClient();
    const user = await seedUser();
    await tokenRequest({ grant_type: 'password', username: user.email, password: 'hunter2-wrong' }, { client });
    const row = await env.DB.prepare(
      "SELECT actor, subject, detail FROM audit_events WHERE event = 'login_failed' AND subject = ?1",
    )
      .bind(user.id)
      .first<Record<string, string>>();
    expect(row).toMatchObject({ actor: client.id, subject: user.id });
    expect(JSON.parse(row!.detail)).toEqual({ via: 'password_grant', reason: 'wrong_password' });
    expect(JSON.stringify(row)).not.toContain('hunter2');
  });

  it('refuses a disabled user like a wrong password', async () => {
    const client = await seedClient();
    const user = await seedUser();
    await setUserStatus(env, user.id, 'disabled');
    const err = await errorOf(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    expect(err).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      description: 'The username or password is incorrect.',
    });
  });

  it('slows down, then locks a username with Retry-After, even for the right password, until the lock ends', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const delays: number[] = [];
    sleeper.sleep = async (ms) => void delays.push(ms);
    const start = Date.now();
    clock.now = () => start;
    let last: Response | undefined;
    for (let i = 0; i < LOCK_AFTER; i++) {
      last = await tokenRequest({ grant_type: 'password', username: user.email, password: `guess-${i}` }, { client });
      expect(last.status).toBe(400);
    }
    expect(delays.length).toBe(LOCK_AFTER - SLOW_AFTER); // attempts made after SLOW_AFTER failures waited
    expect(delays[0]).toBe(250);
    expect(Number(last!.headers.get('Retry-After'))).toBe(LOCK_SECONDS);

    const locked = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      { client },
    );
    expect(locked.status).toBe(400);
    expect(Number(locked.headers.get('Retry-After'))).toBeGreaterThan(0);
    const err = await errorOf(locked);
    expect(err.error).toBe('invalid_grant');
    expect(err.description).toMatch(/Too many failed/);

    // Another username is not affected.
    const other = await seedUser();
    await expectTokens(
      await tokenRequest({ grant_type: 'password', username: other.email, password: other.password }, { client }),
    );

    clock.now = () => start + (LOCK_SECONDS + 1) * 1000;
    await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );
    // Success clears the counter: the next failure is not delayed.
    delays.length = 0;
    await tokenRequest({ grant_type: 'password', username: user.email, password: 'again' }, { client });
    expect(delays).toEqual([]);
  });

  it('locks an unknown username the same way (no user enumeration through the lock)', async () => {
    const client = await seedClient();
    for (let i = 0; i < LOCK_AFTER; i++) {
      await tokenRequest({ grant_type: 'password', username: 'ghost2@example.com', password: `g${i}` }, { client });
    }
    const res = await tokenRequest(
      { grant_type: 'password', username: 'ghost2@example.com', password: 'x' },
      { client },
    );
    expect(res.headers.get('Retry-After')).not.toBeNull();
  });
});

describe('client secret brute force', () => {
  it('slows down failures and answers Retry-After once locked', async () => {
    const client = await seedClient();
    const delays: number[] = [];
    sleeper.sleep = async (ms) => void delays.push(ms);
    let res: Response | undefined;
    for (let i = 0; i < LOCK_AFTER; i++) {
      res = await tokenRequest(
        { grant_type: 'client_credentials' },
        { client: { id: client.id, secret: `wrong-${i}` } },
      );
      expect(res.status).toBe(401);
    }
    expect(delays.length).toBeGreaterThan(0);
    expect(Number(res!.headers.get('Retry-After'))).toBe(LOCK_SECONDS);
    expect((await errorOf(res!)).description).toMatch(/Too many failed/);
    // The right secret still works: 256-bit secrets cannot be guessed, and a lock here would let
    // anyone shut an app out by sending wrong secrets (documented in docs/security.md).
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
  });
});
