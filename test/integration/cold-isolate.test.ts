/**
 * Issue 17, cold isolates: the key ring and the deny-list snapshot come from stamped KV copies of their D1 reads
 * (src/storage/stamped-copy.ts), so a cold isolate issues a client_credentials token and checks a bearer token with
 * no D1 round trip and at most two KV round trips. A "cold isolate" here is a fresh env object (a new Config, so an
 * empty key-ring cache and a verified-token cache that misses) with the deny-list snapshot and the in-isolate
 * client copies forgotten, as the bench wrapper makes one (bench/wrappers/product-bench/index.ts). The bindings are
 * the real ones, wrapped in counting Proxies (test/counting-env.ts).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { clock } from '../../src/lib/clock';
import { rotateSigningKeys } from '../../src/services/key-rotation';
import { forgetClientsInIsolate } from '../../src/storage/clients';
import {
  forgetRevocationSnapshotInIsolate,
  REVOCATIONS_COPY_KEY,
  SNAPSHOT_SECONDS,
} from '../../src/storage/revocations';
import { KEY_RING_COPY_KEY } from '../../src/storage/signing-keys';
import { KEY_REFRESH_SECONDS } from '../../src/tokens/keyring';
import { type Counts, countingEnv } from '../counting-env';
import { basic, expectTokens, ORIGIN, seedClient, seedUser, type TestClient } from '../helpers';
import { claimsOf, freezeClock } from '../ops-helpers';

let counts: Counts;
beforeEach(() => {
  counts = { d1: 0, kv: 0, r2: 0, calls: [] };
});

/** A new cold isolate, counting into `counts` from zero. */
function coldIsolate(options: { failKv?: boolean } = {}): Env {
  forgetRevocationSnapshotInIsolate();
  forgetClientsInIsolate();
  counts.d1 = 0;
  counts.kv = 0;
  counts.r2 = 0;
  counts.calls = [];
  return countingEnv(counts, options);
}

async function fetchApp(e: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function cc(e: Env, client: TestClient): Promise<Response> {
  return fetchApp(e, '/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
    body: 'grant_type=client_credentials',
  });
}

const me = (e: Env, token: string) => fetchApp(e, '/v1/me', { headers: { Authorization: `Bearer ${token}` } });

async function expectMe(res: Response, status: number, type: 'client' | 'user' = 'client'): Promise<void> {
  const body = (await res.json()) as { type?: string; error?: string };
  expect({ status: res.status, body }).toMatchObject(
    status === 200 ? { status, body: { type } } : { status, body: { error: 'invalid_token' } },
  );
  if (status === 401) expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
}

/** Something warm wrote the KV copies: one isolate issues a token and checks it (D1 reads, KV writes). */
async function warmCopies(client: TestClient): Promise<string> {
  await env.CACHE.delete(KEY_RING_COPY_KEY);
  await env.CACHE.delete(REVOCATIONS_COPY_KEY);
  const t0 = clock.now();
  const warm = coldIsolate();
  const { access_token } = await expectTokens(await cc(warm, client));
  await expectMe(await me(warm, access_token), 200);
  expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.first', 'D1.all', 'D1.raw']); // client, ring, deny-list
  const stamps = await Promise.all(
    [KEY_RING_COPY_KEY, REVOCATIONS_COPY_KEY].map(async (k) => (await env.CACHE.get<{ at: number }>(k, 'json'))?.at),
  );
  // both copies written, each stamped with the start of its D1 read
  expect(stamps.map((at) => at !== undefined && at >= t0 && at <= clock.now())).toEqual([true, true]);
  return access_token;
}

describe('a cold isolate (issue 17)', () => {
  it('issues a client_credentials token and checks a bearer token with 0 D1 and ≤ 2 KV round trips', async () => {
    const client = await seedClient();
    await warmCopies(client);

    const issuing = coldIsolate();
    const { access_token } = await expectTokens(await cc(issuing, client));
    expect(counts).toMatchObject({ d1: 0, r2: 0 });
    expect(counts.calls).toEqual(['KV.get', 'KV.get']); // the client record, the ring's copy

    const checking = coldIsolate();
    await expectMe(await me(checking, access_token), 200);
    expect(counts).toMatchObject({ d1: 0, r2: 0 });
    // the ring's and the deny-list's copies in one bulk read, then the client record of /v1/me
    expect(counts.calls).toEqual(['KV.get', 'KV.get']);
  });

  it('does not trust a ring copy older than KEY_REFRESH_SECONDS, nor a deny-list copy older than SNAPSHOT_SECONDS', async () => {
    const client = await seedClient();
    const advance = freezeClock();
    const token = await warmCopies(client);
    advance(SNAPSHOT_SECONDS);
    await expectMe(await me(coldIsolate(), token), 200);
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.raw']); // the deny-list, from D1 again
    advance(KEY_REFRESH_SECONDS - SNAPSHOT_SECONDS);
    await expectTokens(await cc(coldIsolate(), client));
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.all']); // the ring, from D1 again
  });

  it('ignores a copy stamped more than 5 s in the future (a bad clock), and one that is not a stamped copy', async () => {
    const client = await seedClient();
    await warmCopies(client);
    const copy = (await env.CACHE.get<{ at: number; value: unknown }>(KEY_RING_COPY_KEY, 'json'))!;
    await env.CACHE.put(KEY_RING_COPY_KEY, JSON.stringify({ ...copy, at: clock.now() + 6_000 }));
    await expectTokens(await cc(coldIsolate(), client));
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.all']);
    await env.CACHE.put(KEY_RING_COPY_KEY, JSON.stringify(copy.value)); // the bare rows, no stamp
    await expectTokens(await cc(coldIsolate(), client));
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.all']);
    await expectTokens(await cc(coldIsolate(), client)); // the D1 read rewrote a good copy
    expect(counts).toMatchObject({ d1: 0 });
  });

  it('signs with the promoted key right after a rotation: rotation drops the ring copy', async () => {
    const client = await seedClient();
    const before = claimsOf(await warmCopies(client)).kid;
    const staged = await rotateSigningKeys(env);
    expect(staged.step).toBe('staged');
    // A cold isolate publishes the staged key at once, and still signs with the old one.
    const jwks = coldIsolate();
    const keys = ((await (await fetchApp(jwks, '/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys;
    expect(keys.map((k) => k.kid)).toContain(staged.step === 'staged' ? staged.key.kid : '');
    expect(claimsOf((await expectTokens(await cc(coldIsolate(), client))).access_token).kid).toBe(before);

    const promoted = await rotateSigningKeys(env, { force: true });
    expect(promoted.step).toBe('promoted');
    const after = await expectTokens(await cc(coldIsolate(), client));
    expect(claimsOf(after.access_token).kid).toBe(promoted.step === 'promoted' ? promoted.kid : '');
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.all']); // the copy was gone: D1
    // The new copy holds the rows as D1 does: the private halves sealed, no private JWK member in clear.
    const copy = await env.CACHE.get(KEY_RING_COPY_KEY);
    expect(copy).toContain(promoted.step === 'promoted' ? promoted.kid : '-');
    expect(copy).toContain('private_jwk_enc');
    expect(copy).not.toMatch(/\\?"(d|p|q|dp|dq|qi)\\?":/);
    await expectMe(await me(coldIsolate(), after.access_token), 200);
  });

  it('refuses a token revoked through the revocation endpoint at once: the revocation drops the deny-list copy', async () => {
    const client = await seedClient();
    const token = await warmCopies(client);
    await expectMe(await me(coldIsolate(), token), 200); // the copy serves
    const revoked = await fetchApp(coldIsolate(), '/oauth2/revoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    await expectMe(await me(coldIsolate(), token), 401);
  });

  it('refuses the family’s access token at once after refresh-token reuse: reuse detection drops the deny-list copy', async () => {
    const client = await seedClient();
    await warmCopies(client);
    const user = await seedUser();
    const refresh = (token: string) =>
      fetchApp(coldIsolate(), '/oauth2/token', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: basic(client.id, client.secret),
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      });
    const first = await expectTokens(
      await fetchApp(coldIsolate(), '/oauth2/token', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: basic(client.id, client.secret),
        },
        body: new URLSearchParams({ grant_type: 'password', username: user.email, password: user.password }).toString(),
      }),
    );
    const second = await expectTokens(await refresh(first.refresh_token!));
    const third = await expectTokens(await refresh(second.refresh_token!)); // the successor used: no retry window
    await expectMe(await me(coldIsolate(), third.access_token), 200, 'user'); // the copy serves, without the family
    expect((await refresh(first.refresh_token!)).status).toBe(400); // reuse (docs/reliability.md §4): family revoked
    await expectMe(await me(coldIsolate(), third.access_token), 401);
  });

  it('a revocation KV has not seen reaches a cold isolate within SNAPSHOT_SECONDS of the copy’s D1 read', async () => {
    const client = await seedClient();
    const advance = freezeClock();
    const token = await warmCopies(client); // the copy is stamped now (t = 0)
    advance(20);
    const isolate = coldIsolate();
    await expectMe(await me(isolate, token), 200); // loads the 20 s old copy
    // Another colo's revocation: in D1, the KV copy here untouched (KV has not propagated the drop yet).
    const { jti, exp } = claimsOf(token);
    await env.DB.prepare("INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ('jti', ?1, ?2, ?3)")
      .bind(jti, Math.floor(clock.now() / 1000), exp + 60)
      .run();
    advance(SNAPSHOT_SECONDS - 20 - 1); // t = 29 s: the stamp's bound is not over, the copy still serves
    await expectMe(await me(isolate, token), 200);
    advance(1); // t = 30 s: the snapshot loaded at t = 20 expires with its stamp, not 30 s after it was loaded
    await expectMe(await me(isolate, token), 401);
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.raw']);
  });

  it('falls back to D1 when KV fails: the token is issued and checked, never a 503', async () => {
    const client = await seedClient();
    await warmCopies(client);
    const broken = coldIsolate({ failKv: true });
    const { access_token } = await expectTokens(await cc(broken, client));
    expect(counts.d1).toBeGreaterThanOrEqual(2); // the client and the ring from D1
    const checking = coldIsolate({ failKv: true });
    await expectMe(await me(checking, access_token), 200);
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.all', 'D1.raw', 'D1.first']);
  });
});
