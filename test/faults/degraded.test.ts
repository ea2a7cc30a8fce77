/**
 * Degraded modes (issue 16, docs/reliability.md "Degraded modes"): every call of one binding fails (test/faults/
 * harness.ts `faultyEnv` with `every`), through one env object, so the isolate's caches (client records, key ring,
 * deny-list snapshot) warmed while storage was up are what a running isolate would hold.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { clock } from '../../src/lib/clock';
import { revoke } from '../../src/storage/revocations';
import { resetKeyRing } from '../../src/tokens/keyring';
import { authorizeFlow, Browser, signIn } from '../authz-helpers';
import { basic, seedClient, seedUser, type TestClient } from '../helpers';
import { claimsOf } from '../ops-helpers';
import { interceptOutbound, jsonDocument } from '../outbound';
import { send, sendToken, withVars } from './fault-env';
import { type FaultPlan, faultyEnv, type Trace } from './harness';

type Binding = 'd1' | 'kv' | 'r2';

/** One env whose bindings can be taken down and brought back (`plan.every` is read on each call). */
function switchableEnv(base: Env = env) {
  const down = new Set<Binding>();
  const plan: FaultPlan = { at: null, kind: 'overloaded', every: down };
  const trace: Trace = { calls: [], fired: null };
  return { env: faultyEnv(plan, trace, base), down, trace };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

function expect503Json(answer: { res: Response; json: () => Record<string, unknown> }): void {
  expect(answer.res.status).toBe(503);
  expect(answer.res.headers.get('Retry-After')).toBe('2');
  expect(answer.res.headers.get('Content-Type')).toMatch(/^application\/json/);
  expect(answer.json()).toMatchObject({ error: 'temporarily_unavailable' });
  expect(String(answer.json().error_description)).not.toMatch(/D1_ERROR|at .*\.ts/);
}

async function warmClient(e: Env, client: TestClient, scope = 'base') {
  const cc = await sendToken(e, { grant_type: 'client_credentials', scope }, client);
  expect(cc.res.status).toBe(200);
  return cc.json() as { access_token: string };
}

describe('D1 unavailable: every D1 call fails', () => {
  it('keeps the stateless paths: client_credentials (cached client), /v1/me with a client token, JWKS, metadata', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    const warm = await warmClient(s.env, client); // the client record, the key ring, the deny-list snapshot
    expect((await send(s.env, '/v1/me', bearer(warm.access_token))).res.status).toBe(200);
    s.down.add('d1');

    const cc = await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client);
    expect(cc.res.status).toBe(200);
    const token = (cc.json() as { access_token: string }).access_token;
    const me = await send(s.env, '/v1/me', bearer(token));
    expect(me.res.status).toBe(200);
    expect(me.json()).toMatchObject({ type: 'client', client_id: client.id });

    const jwks = await send(s.env, '/.well-known/jwks.json');
    expect(jwks.res.status).toBe(200);
    expect((jwks.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toContain(
      JSON.parse(atob(token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/'))).kid,
    );
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = await send(s.env, path);
      expect(doc.res.status).toBe(200);
      expect(doc.json()).toMatchObject({ issuer: 'http://localhost:8787' });
    }
    // The D1 calls were tried and failed (the test proves D1 was down, not unused).
    expect(s.trace.calls.some((c) => c.startsWith('D1.'))).toBe(true);
  });

  it('keeps serving and storing images for a client token while R2 is up', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    const cc = await sendToken(s.env, { grant_type: 'client_credentials', scope: 'files upload_files' }, client);
    const token = (cc.json() as { access_token: string }).access_token;
    const path = `degraded-${crypto.randomUUID()}.png`;
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
    const put = await send(s.env, `/v1/img/${path}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' },
      body: bytes,
    });
    expect(put.res.status).toBe(201);
    s.down.add('d1');
    const got = await send(s.env, `/v1/img/${path}`, bearer(token));
    expect(got.res.status).toBe(200);
    expect(got.res.headers.get('Content-Type')).toBe('image/png');
    expect(got.body.length).toBeGreaterThan(0);
    // An upload needs no D1 either (R2 holds the object and its owner).
    const again = await send(s.env, `/v1/img/${path}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' },
      body: bytes,
    });
    expect(again.res.status).toBe(201);
    expect(again.json()).toMatchObject({ path, content_type: 'image/png', size: bytes.length });
    // The sign-in form itself needs no storage; signing in does (below).
    const login = await send(s.env, '/login');
    expect(login.res.status).toBe(200);
    expect(login.body).toContain('<form');
  });

  it('the deny-list snapshot keeps its last good copy: a revoked token stays refused past the reload', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    const revoked = (await warmClient(s.env, client)).access_token;
    const kept = (await warmClient(s.env, client)).access_token;
    const claims = claimsOf(revoked);
    await revoke(env.DB, 'jti', claims.jti as string, claims.exp as number);
    expect((await send(s.env, '/v1/me', bearer(revoked))).res.status).toBe(401); // snapshot reloaded with it
    s.down.add('d1');
    const start = Date.now();
    clock.now = () => start + 31_000; // past SNAPSHOT_SECONDS: the reload fails
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const refused = await send(s.env, '/v1/me', bearer(revoked));
    expect(refused.res.status).toBe(401);
    expect(refused.res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect((await send(s.env, '/v1/me', bearer(kept))).res.status).toBe(200);
    expect(error.mock.calls.some(([line]) => String(line).includes('revocations_load_failed'))).toBe(true);
  });

  it('answers 503 temporarily_unavailable with Retry-After wherever D1 is needed (JSON endpoints)', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    const user = await seedUser();
    const pw = await sendToken(
      s.env,
      { grant_type: 'password', username: user.email, password: user.password },
      client,
    );
    const { access_token: userToken, refresh_token } = pw.json() as { access_token: string; refresh_token: string };
    const flow = await authorizeFlow(client, user);
    await warmClient(s.env, client);
    expect((await send(s.env, '/v1/me', bearer(userToken))).res.status).toBe(200);
    s.down.add('d1');
    vi.spyOn(console, 'error').mockImplementation(() => {});

    expect503Json(await sendToken(s.env, { grant_type: 'refresh_token', refresh_token }, client));
    expect503Json(
      await sendToken(s.env, { grant_type: 'password', username: user.email, password: user.password }, client),
    );
    expect503Json(
      await sendToken(
        s.env,
        {
          grant_type: 'authorization_code',
          code: flow.code,
          redirect_uri: 'https://app.example/cb',
          code_verifier: flow.verifier!,
        },
        client,
      ),
    );
    expect503Json(
      await send(s.env, '/oauth2/introspect', {
        method: 'POST',
        headers: {
          Authorization: basic(client.id, client.secret),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: userToken }).toString(),
      }),
    );
    expect503Json(
      await send(s.env, '/oauth2/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer some-initial-access-token' },
        body: JSON.stringify({ client_name: 'x', redirect_uris: ['https://app.example/cb'] }),
      }),
    );
    expect503Json(
      await send(s.env, '/oauth2/revoke', {
        method: 'POST',
        headers: {
          Authorization: basic(client.id, client.secret),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: refresh_token }).toString(),
      }),
    );
    const userinfo = await send(s.env, '/oauth2/userinfo', bearer(userToken));
    expect503Json(userinfo); // it reads the deny-list at once, and the profile claims
    expect(userinfo.res.headers.get('WWW-Authenticate')).toBeNull(); // the token is not at fault (docs/reliability.md)
    expect503Json(
      await send(s.env, '/admin/clients', { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN as string}` } }),
    );
    // Issue 17: /v1/me with a user token answers from the user's cached summary (src/storage/user-summaries.ts).
    expect((await send(s.env, '/v1/me', bearer(userToken))).res.status).toBe(200);
    // After the fault the same requests work again: nothing was half-done.
    s.down.delete('d1');
    expect((await sendToken(s.env, { grant_type: 'refresh_token', refresh_token }, client)).res.status).toBe(200);
  });

  it('answers the browser pages with an HTML 503 page and Retry-After', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    const user = await seedUser();
    const browser = new Browser();
    await signIn(browser, user.email, user.password);
    const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    s.down.add('d1');
    vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const path of [
      '/apps',
      `/oauth2/authorize?response_type=code&client_id=${client.id}&redirect_uri=${encodeURIComponent('https://app.example/cb')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    ]) {
      const page = await send(s.env, path, { headers: { Cookie: cookie } });
      expect(page.res.status, path).toBe(503);
      expect(page.res.headers.get('Retry-After')).toBe('2');
      expect(page.res.headers.get('Content-Type')).toMatch(/^text\/html/);
      expect(page.body).toContain('Briefly unavailable');
      expect(page.body).not.toMatch(/D1_ERROR|overloaded/);
    }
  });
});

describe('KV unavailable: every KV call fails, every read falls back to D1', () => {
  it('client_credentials, password, refresh, the code flow, registration and /v1/me all succeed', async () => {
    const e = faultyEnv({ at: null, kind: 'overloaded', every: new Set(['kv']) }, { calls: [], fired: null });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = await seedClient();
    const user = await seedUser();
    const cc = await sendToken(e, { grant_type: 'client_credentials', scope: 'base' }, client);
    expect(cc.res.status).toBe(200);
    const pw = await sendToken(e, { grant_type: 'password', username: user.email, password: user.password }, client);
    expect(pw.res.status).toBe(200);
    const { access_token, refresh_token } = pw.json() as { access_token: string; refresh_token: string };
    const me = await send(e, '/v1/me', bearer(access_token));
    expect(me.res.status).toBe(200);
    expect(me.json()).toMatchObject({ type: 'user', sub: user.id });
    expect((await send(e, '/v1/me', bearer((cc.json() as { access_token: string }).access_token))).res.status).toBe(
      200,
    );
    expect((await sendToken(e, { grant_type: 'refresh_token', refresh_token }, client)).res.status).toBe(200);
    const flow = await authorizeFlow(client, user);
    const code = await sendToken(
      e,
      {
        grant_type: 'authorization_code',
        code: flow.code,
        redirect_uri: 'https://app.example/cb',
        code_verifier: flow.verifier!,
      },
      client,
    );
    expect(code.res.status).toBe(200);
    // Open registration (RFC 7591) with the policy that allows it, then the new client is looked up (D1, KV down).
    const open = withVars({ REGISTRATION_POLICY: 'open-public' }, e);
    const reg = await send(open, '/oauth2/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'KV down', redirect_uris: ['https://app.example/cb'] }),
    });
    expect(reg.res.status).toBe(201);
    const registered = reg.json() as { client_id: string; registration_access_token: string };
    const read = await send(
      open,
      `/oauth2/register/${registered.client_id}`,
      bearer(registered.registration_access_token),
    );
    expect(read.res.status).toBe(200);
    expect(read.json()).toMatchObject({ client_id: registered.client_id, client_name: 'KV down' });
  });

  it('a Client ID Metadata Document client is fetched as on a cache miss (KV is its only cache)', async () => {
    const e = faultyEnv({ at: null, kind: 'overloaded', every: new Set(['kv']) }, { calls: [], fired: null });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const url = `https://agent.example.com/oauth/kv-down-${crypto.randomUUID().slice(0, 8)}.json`;
    const out = interceptOutbound({
      [url]: () =>
        jsonDocument({
          client_id: url,
          client_name: 'KV down agent',
          redirect_uris: ['http://localhost:33418/cb'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
    });
    // The client is resolved (a known client with a bad code: invalid_grant, not 503 or invalid_client).
    const answer = await sendToken(e, {
      grant_type: 'authorization_code',
      code: 'not-a-code',
      redirect_uri: 'http://localhost:33418/cb',
      client_id: url,
      code_verifier: 'v'.repeat(43),
    });
    expect(answer.res.status).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'invalid_grant' });
    expect(out.requests.map((r) => r.url)).toEqual([url]);
  });
});

describe('caches are not poisoned by a failed read', () => {
  it('a client read that failed is not remembered as "unknown": the next request after the fault authenticates', async () => {
    const s = switchableEnv();
    const client = await seedClient(); // never read through s.env: neither this isolate nor KV holds it
    await warmClient(s.env, await seedClient()); // the key ring of s.env loaded
    s.down.add('d1');
    s.down.add('kv');
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect503Json(await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client));
    s.down.clear();
    const cc = await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client);
    expect(cc.res.status).toBe(200);
  });
});

describe('key ring: a cold isolate that cannot load it', () => {
  it("signs from the colo's KV copy of the ring while D1 is down (issue 17: a cold isolate needs no D1)", async () => {
    const client = await seedClient();
    await warmClient(env, client); // the ring read from D1 once, its stamped KV copy written
    const s = switchableEnv(); // a new env object: a cold ring
    s.down.add('d1');
    const cc = await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client);
    expect(cc.res.status).toBe(200);
    expect(s.trace.calls.filter((c) => c.startsWith('D1')).length).toBe(0);
  });

  it('a warm isolate keeps its ring through a failed reload and retries 5 s later, not a whole period later', async () => {
    const s = switchableEnv();
    const start = Date.now();
    clock.now = () => start;
    expect((await send(s.env, '/.well-known/jwks.json')).res.status).toBe(200); // the ring loaded at `start`
    s.down.add('d1');
    s.down.add('kv');
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    clock.now = () => start + 61_000; // due: the reload fails, the last good ring answers
    expect((await send(s.env, '/.well-known/jwks.json')).res.status).toBe(200);
    s.down.clear();
    s.trace.calls.length = 0;
    clock.now = () => start + 67_000; // RETRY_SECONDS after the failure (src/tokens/keyring.ts)
    expect((await send(s.env, '/.well-known/jwks.json')).res.status).toBe(200);
    expect(s.trace.calls.filter((c) => c.includes('signing_keys'))).toEqual(['D1.all SELECT signing_keys']);
  });

  it('answers 503 with neither D1 nor a KV copy (never signs with a missing or stale key) and recovers by itself', async () => {
    const s = switchableEnv();
    const client = await seedClient();
    await warmClient(env, client); // the client record cached; s.env is a new env object: its ring is cold
    resetKeyRing(s.env);
    s.down.add('d1');
    s.down.add('kv'); // no copy of the ring to fall back on either
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const start = Date.now();
    clock.now = () => start;
    expect503Json(await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client));
    expect503Json(await send(s.env, '/.well-known/jwks.json'));
    s.down.clear();
    clock.now = () => start + 6_000; // the failed load is retried after 5 s, not on every request
    const cc = await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client);
    expect(cc.res.status).toBe(200);
    const me = await send(s.env, '/v1/me', bearer((cc.json() as { access_token: string }).access_token));
    expect(me.res.status).toBe(200);
  });
});
