/**
 * Storage round trips per operation, against the budget in DESIGN.md ("Round-trip budget per operation").
 * The real D1, KV and R2 bindings are wrapped in counting Proxies (nothing is mocked: every call still reaches
 * storage) and the app is driven with `app.fetch(request, countingEnv, ctx)`.
 * Counting rules: D1 `first`/`run`/`all`/`raw` on a statement and `batch` are one round trip each;
 * KV `get`/`getWithMetadata`/`put`/`delete`/`list` one each; every R2 call one.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { authenticateAccessToken } from '../../src/tokens/authenticate-access-token';
import { authorizeFlow } from '../authz-helpers';
import { type Counts, countingEnv } from '../counting-env';
import { bytesOf, clientToken, png, uploaded } from '../files-fixtures';
import { basic, expectTokens, ORIGIN, seedClient, seedUser } from '../helpers';

let counts: Counts;
let cenv: Env;
const reset = () => {
  counts.d1 = 0;
  counts.kv = 0;
  counts.r2 = 0;
  counts.calls = [];
};

beforeEach(() => {
  counts = { d1: 0, kv: 0, r2: 0, calls: [] };
  cenv = countingEnv(counts);
});

async function fetchApp(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), cenv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function token(client: { id: string; secret: string }, params: Record<string, string>): Promise<Response> {
  return fetchApp('/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
    body: new URLSearchParams(params).toString(),
  });
}

/** Asserts the counted round trips, showing the calls on failure. */
function expectBudget(budget: { d1: number; kvMax: number; r2?: number }, what: string) {
  const seen = { d1: counts.d1, kvWithinBudget: counts.kv <= budget.kvMax, r2: counts.r2, calls: counts.calls };
  expect(seen, what).toEqual({ d1: budget.d1, kvWithinBudget: true, r2: budget.r2 ?? 0, calls: counts.calls });
}

describe('round trips per operation (DESIGN.md budget)', () => {
  it('client_credentials: cold cache 1 D1 read + KV get/put; warm 0 D1, ≤ 1 KV (0 from the in-isolate copy), 0 R2', async () => {
    const client = await seedClient();
    await fetchApp('/.well-known/jwks.json'); // a cold isolate first loads the key ring (one D1 read per 60 s)
    reset();
    await expectTokens(await token(client, { grant_type: 'client_credentials' }));
    expect(counts.calls).toEqual(['KV.get', 'D1.first', 'KV.put']);
    reset();
    await expectTokens(await token(client, { grant_type: 'client_credentials' }));
    expectBudget({ d1: 0, kvMax: 1 }, 'warm client_credentials');
    expect(counts.calls).toEqual([]); // hot in this isolate: no storage at all
  });

  it('client_credentials with resource (issue 13): /v1 adds no read, another resource exactly one D1 read', async () => {
    const client = await seedClient();
    await env.DB.prepare(
      "INSERT INTO resource_servers (uri, name, scopes, created_at, updated_at) VALUES ('https://rt.example.com/mcp', 'RT', 'x', 0, 0) ON CONFLICT DO NOTHING",
    ).run();
    await fetchApp('/.well-known/jwks.json');
    await expectTokens(await token(client, { grant_type: 'client_credentials' })); // warm the client
    reset();
    await expectTokens(await token(client, { grant_type: 'client_credentials', resource: env.ACCESS_TOKEN_AUDIENCE }));
    expect(counts.calls).toEqual([]);
    reset();
    await expectTokens(
      await token(client, { grant_type: 'client_credentials', resource: 'https://rt.example.com/mcp' }),
    );
    expect(counts.calls).toEqual(['D1.all']);
  });

  it('password: ≤ 2 D1 (one batch to read, one to write), ≤ 1 KV, 0 R2, on success and on failure', async () => {
    const client = await seedClient();
    const user = await seedUser();
    await expectTokens(await token(client, { grant_type: 'client_credentials' })); // warm the client cache
    reset();
    await expectTokens(await token(client, { grant_type: 'password', username: user.email, password: user.password }));
    expectBudget({ d1: 2, kvMax: 1 }, 'password success');
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.batch(2)', 'D1.batch(1)']);
    reset();
    const bad = await token(client, { grant_type: 'password', username: user.email, password: 'wrong password' });
    expect(bad.status).toBe(400);
    expect(counts.d1).toBeLessThanOrEqual(2);
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.batch(2)', 'D1.batch(2)']); // read; counter + audit row
    expect(counts.kv).toBeLessThanOrEqual(1);
  });

  it('refresh_token rotation: exactly 1 D1 batch, ≤ 1 KV, 0 R2', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const first = await expectTokens(
      await token(client, { grant_type: 'password', username: user.email, password: user.password }),
    );
    reset();
    const rotated = await expectTokens(
      await token(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }),
    );
    expect(rotated.refresh_token).toBeDefined();
    expectBudget({ d1: 1, kvMax: 1 }, 'refresh rotation');
    // 5 statements since issue 10 item 4 (reuse also deny-lists the family's fid), 7 since issue 16 (the lost-reply
    // retry: supersede the unused successor, re-point the parent), still one round trip.
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.batch(7)']);
  });

  it('refresh_token under the reuse policy (issue 11): exactly 1 D1 batch, ≤ 1 KV, 0 R2', async () => {
    const client = await seedClient({ refreshTokenPolicy: 'reuse' });
    const user = await seedUser();
    const first = await expectTokens(
      await token(client, { grant_type: 'password', username: user.email, password: user.password }),
    );
    reset();
    const again = await expectTokens(
      await token(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }),
    );
    expect(again.refresh_token).toBe(first.refresh_token);
    expectBudget({ d1: 1, kvMax: 1 }, 'refresh reuse');
    // the replay check of a rotated-away token, the family deny-list for it, then the row with its user's status
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.batch(3)']);
  });

  it('verifying an access token: 0 storage in steady state; /v1/me then reads the client or the user once (KV, D1), then neither', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const cc = await expectTokens(await token(client, { grant_type: 'client_credentials' }));
    const pw = await expectTokens(
      await token(client, { grant_type: 'password', username: user.email, password: user.password }),
    );
    // Warm: the first check in an isolate may load the deny-list snapshot (one D1 read per 30 s).
    await authenticateAccessToken(cenv, cc.access_token);
    reset();
    const claims = await authenticateAccessToken(cenv, cc.access_token);
    expect(claims.client_id).toBe(client.id);
    await authenticateAccessToken(cenv, pw.access_token);
    expectBudget({ d1: 0, kvMax: 0 }, 'token check alone');

    const me = await fetchApp('/v1/me', { headers: { Authorization: `Bearer ${cc.access_token}` } });
    expect(me.status).toBe(200);
    expectBudget({ d1: 0, kvMax: 1 }, '/v1/me with a client token'); // the client record (hot here: 0)
    reset();
    const meUser = await fetchApp('/v1/me', { headers: { Authorization: `Bearer ${pw.access_token}` } });
    expect(meUser.status).toBe(200);
    // The user's summary: a KV miss, the D1 read, the KV fill (src/storage/user-summaries.ts)
    expect(counts.calls).toEqual(['KV.get', 'D1.first', 'KV.put']);
    reset();
    // Issue 17: warm, no D1 round trip (in a far colo it is the only one /v1/me had): the isolate's copy.
    expect((await fetchApp('/v1/me', { headers: { Authorization: `Bearer ${pw.access_token}` } })).status).toBe(200);
    expectBudget({ d1: 0, kvMax: 0 }, 'warm /v1/me with a user token');
  });

  it('authorization_code exchange: exactly 1 D1 batch, ≤ 1 KV, 0 R2', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user); // over the real bindings: the exchange alone is counted
    await expectTokens(await token(client, { grant_type: 'client_credentials' })); // warm client cache and key ring
    reset();
    const t = await expectTokens(
      await token(client, {
        grant_type: 'authorization_code',
        code: r.code,
        redirect_uri: 'https://app.example/cb',
        code_verifier: r.verifier!,
      }),
    );
    expect(t.refresh_token).toBeDefined();
    expectBudget({ d1: 1, kvMax: 1 }, 'authorization_code exchange');
    // consume the code, insert the refresh family, the two replay statements, read the row back
    expect(counts.calls.filter((c) => c.startsWith('D1'))).toEqual(['D1.batch(5)']);
  });

  it('image GET with a files token in the URL: 0 D1, 0 KV, 1 R2 on an edge-cache miss, 0 R2 on a hit', async () => {
    const client = await seedClient();
    const bytes = png(4000);
    await uploaded('rt/a.png', bytes, await clientToken(client, 'upload_files'));
    const files = await clientToken(client, 'files');
    const get = () => fetchApp(`/v1/img/rt/a.png?access_token=${files}`);
    // Warm the isolate (the deny-list snapshot may load once per 30 s) on another object, so rt/a.png is still a miss.
    await uploaded('rt/warm.png', bytes, await clientToken(client, 'upload_files'));
    await (await fetchApp(`/v1/img/rt/warm.png?access_token=${files}`)).arrayBuffer();
    reset();
    const miss = await get();
    expect(miss.status).toBe(200);
    expect(await bytesOf(miss)).toEqual(bytes);
    expectBudget({ d1: 0, kvMax: 0, r2: 1 }, 'image GET, edge-cache miss');
    expect(counts.calls).toEqual(['R2.get']);
    reset();
    const hit = await get();
    expect(hit.status).toBe(200);
    expect(await bytesOf(hit)).toEqual(bytes);
    expectBudget({ d1: 0, kvMax: 0, r2: 0 }, 'image GET, edge-cache hit');
  });
});
