/**
 * The lost-reply refresh gap (issue 16, RFC 9700 §4.14.2, docs/reliability.md): D1 commits a rotation, the answer
 * never reaches the client, the client retries with the same refresh token. Within REFRESH_REUSE_GRACE_SECONDS of the
 * rotation, while the successor was never used, that is a retry, not reuse: the unused successor is revoked and a new
 * one issued, in the rotation's D1 batch. Otherwise reuse detection revokes the family as before.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { sha256 } from '../../src/lib/random';
import { seedClient, seedUser, type TestClient } from '../helpers';
import { replyLostAfterBatch, sendToken, withVars } from './fault-env';

const REUSED = 'The refresh token was already used; every token of this grant has been revoked. Sign in again.';

async function login(client: TestClient): Promise<{ access_token: string; refresh_token: string; userId: string }> {
  const user = await seedUser();
  const { res, json } = await sendToken(
    env,
    { grant_type: 'password', username: user.email, password: user.password },
    client,
  );
  expect(res.status).toBe(200);
  return { ...(json() as { access_token: string; refresh_token: string }), userId: user.id };
}

const refresh = (client: TestClient, token: string, e: Env = env) =>
  sendToken(e, { grant_type: 'refresh_token', refresh_token: token }, client);

async function row(token: string) {
  return env.DB.prepare('SELECT used_at, revoked_at, replaced_by FROM refresh_tokens WHERE hash = ?1')
    .bind(await sha256(token))
    .first<{ used_at: number | null; revoked_at: number | null; replaced_by: string | null }>();
}

/** The family's refresh tokens that can still be exchanged. */
async function liveTokens(userId: string): Promise<number> {
  const r = await env.DB.prepare(
    'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?1 AND used_at IS NULL AND revoked_at IS NULL',
  )
    .bind(userId)
    .first<{ n: number }>();
  return r!.n;
}

function expectReuse(answer: { res: Response; json: () => Record<string, unknown> }): void {
  expect(answer.res.status).toBe(400);
  expect(answer.res.headers.get('Cache-Control')).toBe('no-store');
  expect(answer.json()).toEqual({ error: 'invalid_grant', error_description: REUSED });
}

describe('a refresh retried after a lost reply (REFRESH_REUSE_GRACE_SECONDS, default 30)', () => {
  it('answers the retry with a new successor, revokes the unused one, and keeps the family', async () => {
    const client = await seedClient();
    const first = await login(client);
    const lost = await refresh(client, first.refresh_token); // committed; the answer is discarded
    expect(lost.res.status).toBe(200);
    const lostToken = (lost.json() as { refresh_token: string }).refresh_token;

    const retry = await refresh(client, first.refresh_token);
    expect(retry.res.status).toBe(200);
    expect(retry.res.headers.get('Cache-Control')).toBe('no-store');
    const body = retry.json() as { access_token: string; refresh_token: string; token_type: string; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'base' });
    expect(body.refresh_token).not.toBe(lostToken);
    expect(body.refresh_token).not.toBe(first.refresh_token);

    // The lost successor is dead (used, revoked, marked as superseded by the retry's), the new one is the only live one.
    expect(await row(lostToken)).toMatchObject({ replaced_by: await sha256(body.refresh_token) });
    expect((await row(lostToken))!.revoked_at).not.toBeNull();
    expect(await liveTokens(first.userId)).toBe(1);
    // The family goes on: the new successor rotates, and its access token works.
    const next = await refresh(client, body.refresh_token);
    expect(next.res.status).toBe(200);
  });

  it('a network cut after the commit (the rotation stored, the answer a 503) leaves a retry that succeeds', async () => {
    const client = await seedClient();
    const first = await login(client);
    const failed = await refresh(client, first.refresh_token, replyLostAfterBatch());
    expect(failed.res.status).toBe(503);
    expect(failed.res.headers.get('Retry-After')).toBe('2');
    expect(failed.json()).toMatchObject({ error: 'temporarily_unavailable' });
    // The rotation is stored (the parent used, its successor unused), so without the window this retry were reuse.
    expect((await row(first.refresh_token))!.used_at).not.toBeNull();
    const retry = await refresh(client, first.refresh_token);
    expect(retry.res.status).toBe(200);
    expect(await liveTokens(first.userId)).toBe(1);
    expect((await refresh(client, (retry.json() as { refresh_token: string }).refresh_token)).res.status).toBe(200);
  });

  it('once the successor was used, presenting the parent again is reuse: the family is revoked', async () => {
    const client = await seedClient();
    const first = await login(client);
    const second = (await refresh(client, first.refresh_token)).json() as { refresh_token: string };
    const third = (await refresh(client, second.refresh_token)).json() as { refresh_token: string };
    expectReuse(await refresh(client, first.refresh_token));
    expect(await liveTokens(first.userId)).toBe(0);
    expect((await refresh(client, third.refresh_token)).res.status).toBe(400);
  });

  it('after the window, presenting the parent again is reuse: the family is revoked', async () => {
    const client = await seedClient();
    const first = await login(client);
    const start = Date.now();
    clock.now = () => start;
    const second = (await refresh(client, first.refresh_token)).json() as { refresh_token: string };
    clock.now = () => start + 30_000; // exactly 30 s after the rotation: the window is open-ended at 30 s
    expectReuse(await refresh(client, first.refresh_token));
    expect(await liveTokens(first.userId)).toBe(0);
    expect((await refresh(client, second.refresh_token)).res.status).toBe(400);
  });

  it('retries do not stretch the window: it counts from the first rotation', async () => {
    const client = await seedClient();
    const first = await login(client);
    const start = Date.now();
    clock.now = () => start;
    await refresh(client, first.refresh_token);
    clock.now = () => start + 20_000;
    expect((await refresh(client, first.refresh_token)).res.status).toBe(200);
    clock.now = () => start + 31_000;
    expectReuse(await refresh(client, first.refresh_token));
    expect(await liveTokens(first.userId)).toBe(0);
  });

  it('a superseded successor presented later is reuse (two parties held the parent): the family is revoked', async () => {
    const client = await seedClient();
    const first = await login(client);
    const a = (await refresh(client, first.refresh_token)).json() as { refresh_token: string };
    const b = (await refresh(client, first.refresh_token)).json() as { refresh_token: string };
    expectReuse(await refresh(client, a.refresh_token));
    expect(await liveTokens(first.userId)).toBe(0);
    expect((await refresh(client, b.refresh_token)).res.status).toBe(400);
  });

  it('the retry authenticates the client as always: another client gets invalid_grant and changes nothing', async () => {
    const client = await seedClient();
    const other = await seedClient();
    const first = await login(client);
    const second = (await refresh(client, first.refresh_token)).json() as { refresh_token: string };
    const stranger = await refresh(other, first.refresh_token);
    expect(stranger.res.status).toBe(400);
    expect(stranger.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'The refresh token was not issued to this client.',
    });
    const wrongSecret = await refresh({ id: client.id, secret: 'not-the-secret' }, first.refresh_token);
    expect(wrongSecret.res.status).toBe(401);
    expect(wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
    // The successor is untouched and still the only live token.
    expect((await row(second.refresh_token))!.revoked_at).toBeNull();
    expect(await liveTokens(first.userId)).toBe(1);
  });

  it('two simultaneous retries never leave two live successors', async () => {
    const client = await seedClient();
    const first = await login(client);
    await refresh(client, first.refresh_token); // the lost answer
    const [x, y] = await Promise.all([refresh(client, first.refresh_token), refresh(client, first.refresh_token)]);
    expect([x.res.status, y.res.status]).toEqual([200, 200]);
    const tokens = [x, y].map((r) => (r.json() as { refresh_token: string }).refresh_token);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(await liveTokens(first.userId)).toBe(1);
    // Exactly one of the two rotates; the other was superseded, and presenting it is reuse.
    const states = await Promise.all(tokens.map(row));
    expect(states.filter((s) => s!.revoked_at === null)).toHaveLength(1);
  });

  it('REFRESH_REUSE_GRACE_SECONDS=0 turns the window off: a retry is reuse, and of concurrent uses one succeeds', async () => {
    const off = withVars({ REFRESH_REUSE_GRACE_SECONDS: '0' });
    const client = await seedClient();
    const first = await login(client);
    expect((await refresh(client, first.refresh_token, off)).res.status).toBe(200);
    expectReuse(await refresh(client, first.refresh_token, off));
    expect(await liveTokens(first.userId)).toBe(0);

    const again = await login(client);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(client, again.refresh_token, off)));
    expect(answers.filter((a) => a.res.status === 200)).toHaveLength(1);
    for (const a of answers.filter((a) => a.res.status !== 200)) expectReuse(a);
    expect(await liveTokens(again.userId)).toBe(0);
  });
});
