/**
 * Concurrency: single use must hold when many requests race for the same refresh token or authorization code.
 * Rotation and redemption are each one D1 batch whose UPDATE … WHERE used_at IS NULL matches for exactly one
 * request; D1 runs batches one at a time. Uploads to one path race on R2's conditional put (etag or absent).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { objectKey } from '../../src/files/paths';
import { authorizeFlow } from '../authz-helpers';
import { bytesOf, getImage, png, putImage, userToken } from '../files-fixtures';
import { call, errorOf, expectTokens, seedClient, seedUser, type TokenJson, tokenRequest } from '../helpers';

/** The token responses of a race: the 200s' bodies, and every other response's RFC 6749 §5.2 error. */
async function race(
  responses: Response[],
): Promise<{ winners: TokenJson[]; losers: Awaited<ReturnType<typeof errorOf>>[] }> {
  const winners: TokenJson[] = [];
  const losers: Awaited<ReturnType<typeof errorOf>>[] = [];
  for (const res of responses) {
    if (res.status === 200) winners.push((await res.json()) as TokenJson);
    else losers.push(await errorOf(res));
  }
  return { winners, losers };
}

describe('concurrency', () => {
  it('50 concurrent uses of one refresh token: one live successor at the end; keeping any other one is reuse', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const first = await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client }),
    );

    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }, { client }),
      ),
    );
    const { winners, losers } = await race(responses);
    // Within REFRESH_REUSE_GRACE_SECONDS (issue 16) a later use of the parent, while its successor is unused, is
    // taken for a retry after a lost reply: it supersedes that successor. D1 runs the 50 batches one at a time, so
    // each answer is a 200 and exactly one successor is live afterwards (with the window off, exactly one request
    // succeeds and the 49 others revoke the family: test/faults/refresh-retry.test.ts).
    expect(losers).toEqual([]);
    expect(winners).toHaveLength(50);
    const live = await env.DB.prepare(
      `SELECT hash FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND user_id = ?1`,
    )
      .bind(user.id)
      .all<{ hash: string }>();
    expect(live.results).toHaveLength(1);

    // RFC 9700 §4.14.2: a superseded successor presented later means two parties hold the grant: the whole family is
    // revoked, the live successor with it. A client that races itself and keeps the wrong answer signs in again.
    const outcomes = await Promise.all(
      winners.map((w) => tokenRequest({ grant_type: 'refresh_token', refresh_token: w.refresh_token! }, { client })),
    );
    const statuses = outcomes.map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(49);
    const rows = await env.DB.prepare(
      `SELECT count(*) AS n, sum(revoked_at IS NOT NULL) AS revoked FROM refresh_tokens WHERE user_id = ?1`,
    )
      .bind(user.id)
      .first<{ n: number; revoked: number }>();
    expect(rows!.revoked).toBe(rows!.n);
  });

  it('50 concurrent redemptions of one authorization code: exactly one 200; the 49 replays revoke its tokens (RFC 6749 §4.1.2)', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    const params = {
      grant_type: 'authorization_code',
      code: r.code,
      redirect_uri: 'https://app.example/cb',
      code_verifier: r.verifier!,
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}); // one code_replay line per loser
    const responses = await Promise.all(Array.from({ length: 50 }, () => tokenRequest(params, { client })));
    const { winners, losers } = await race(responses);
    expect(winners).toHaveLength(1);
    // Every loser ran its batch after the winner's (D1 serialises batches), so each is a replay of a used code.
    expect(losers.map((e) => `${e.status} ${e.error} ${e.description}`)).toEqual(
      Array(49).fill(
        '400 invalid_grant The authorization code was already used; the tokens issued from it have been revoked.',
      ),
    );

    // As implemented (src/storage/authorization-codes.ts): a replay by the same client with the right verifier
    // cannot be told from an attacker's, so it deny-lists the winner's access token and revokes its refresh family.
    const me = await call('/v1/me', { headers: { Authorization: `Bearer ${winners[0].access_token}` } });
    expect(me.status).toBe(401);
    expect(me.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/);
    const refresh = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: winners[0].refresh_token! },
      { client },
    );
    expect(await errorOf(refresh)).toMatchObject({ status: 400, error: 'invalid_grant' });

    // Storage agrees: one refresh row for the user (revoked), one code_replay audit row per loser.
    const rows = await env.DB.prepare(
      'SELECT count(*) AS n, sum(revoked_at IS NOT NULL) AS revoked FROM refresh_tokens WHERE user_id = ?1',
    )
      .bind(user.id)
      .first<{ n: number; revoked: number }>();
    expect(rows).toEqual({ n: 1, revoked: 1 });
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE event = 'code_replay' AND actor = ?1",
    )
      .bind(client.id)
      .first<{ n: number }>();
    expect(audit!.n).toBe(49);
    expect(warn.mock.calls.filter(([line]) => String(line).includes('"event":"code_replay"'))).toHaveLength(49);
    warn.mockRestore();
  });

  describe('50 concurrent PUT uploads to one path', () => {
    /** 50 distinct images of distinct sizes, so a mix of two or a truncated one cannot equal any of them. */
    const bodies = () => Array.from({ length: 50 }, (_, i) => png(30_000 + i * 1_013));

    it('by one owner: one complete object equal to an upload that got 201; the rest 201 or 409, never a mix', async () => {
      const client = await seedClient();
      const token = await userToken(client, await seedUser(), 'base');
      const uploads = bodies();
      const responses = await Promise.all(uploads.map((b) => putImage('race/same-owner.png', b, token)));
      const created: { i: number; etag: string }[] = [];
      for (const [i, res] of responses.entries()) {
        if (res.status === 201) created.push({ i, etag: ((await res.json()) as { etag: string }).etag });
        else expect(await errorOf(res), `upload ${i}`).toMatchObject({ status: 409, error: 'invalid_request' });
      }
      expect(created.length).toBeGreaterThanOrEqual(1);

      const res = await getImage('race/same-owner.png', token);
      expect(res.status).toBe(200);
      const etag = res.headers.get('ETag');
      const stored = await bytesOf(res);
      const match = uploads.findIndex((b) => b.length === stored.length && b.every((x, k) => x === stored[k]));
      expect(match).toBeGreaterThanOrEqual(0);
      // The object is the last write that succeeded: one of the 201s, with the etag it reported.
      expect(created.map((c) => c.i)).toContain(match);
      expect(created.find((c) => c.i === match)!.etag).toBe(etag);
    });

    it('by two owners at once: the first owner keeps the path, every write of the other is 403', async () => {
      const client = await seedClient();
      const owners = [
        await userToken(client, await seedUser(), 'base'),
        await userToken(client, await seedUser(), 'base'),
      ];
      const uploads = bodies();
      const responses = await Promise.all(uploads.map((b, i) => putImage('race/two-owners.png', b, owners[i % 2])));
      const outcome = await Promise.all(
        responses.map(async (res, i) => ({
          i,
          owner: i % 2,
          status: res.status,
          error: res.status === 201 ? null : (await errorOf(res)).error,
        })),
      );
      const winners = new Set(outcome.filter((o) => o.status === 201).map((o) => o.owner));
      expect(winners.size).toBe(1);
      const [winner] = winners;
      for (const o of outcome) {
        if (o.owner === winner) expect([201, 409], `upload ${o.i}`).toContain(o.status);
        else
          expect({ status: o.status, error: o.error }, `upload ${o.i}`).toEqual({
            status: 403,
            error: 'access_denied',
          });
      }

      const res = await getImage('race/two-owners.png', owners[winner]);
      expect(res.status).toBe(200);
      const stored = await bytesOf(res);
      const match = uploads.findIndex((b) => b.length === stored.length && b.every((x, k) => x === stored[k]));
      expect(match % 2).toBe(winner);
      expect(outcome[match].status).toBe(201);
      const head = await env.FILES.head(objectKey(client.id, 'race/two-owners.png'));
      expect(head?.size).toBe(uploads[match].length);
    });
  });
});
