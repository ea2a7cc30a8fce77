/**
 * Issue 16, rate limits at the edge (src/middleware/rate-limit.ts, docs/rate-limits.md). The app runs with the
 * product's two limiters swapped for the TEST_* ones (real Miniflare bindings, limit 3 per 60 s; vitest.config.ts
 * sets the product's own out of reach for the rest of the suite). Each test uses its own addresses and clients.
 *
 * Miniflare counts in fixed 60 s windows: a window may end during a test, so "over the limit" is "a 429 comes
 * within 2 × limit + 1 requests", never "exactly the 4th".
 */

import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import { networkKey } from '../../src/middleware/rate-limit';
import { basic, ORIGIN, seedClient, type TestClient } from '../helpers';

const LIMIT = 3;

function envWith(limiters: { TOKEN_RATE_LIMITER?: unknown; IP_RATE_LIMITER?: unknown }): Env {
  return new Proxy(env, {
    get(target, prop) {
      if (prop in limiters) return limiters[prop as keyof typeof limiters];
      return Reflect.get(target, prop);
    },
  });
}

const lowEnv = envWith({ TOKEN_RATE_LIMITER: env.TEST_TOKEN_RATE_LIMITER, IP_RATE_LIMITER: env.TEST_IP_RATE_LIMITER });

let ipSeq = 0;
/** A fresh documentation address (RFC 5737) per call, so tests never share a count. */
const freshIp = () => `198.51.100.${++ipSeq}`;

async function send(path: string, init: RequestInit & { ip?: string } = {}, e: Env = lowEnv): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.ip) headers.set('CF-Connecting-IP', init.ip);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers, redirect: 'manual' }), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const form = (params: Record<string, string>, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...extra },
  body: new URLSearchParams(params).toString(),
});

const cc = (client: TestClient, ip = freshIp()) =>
  send('/oauth2/token', {
    ...form({ grant_type: 'client_credentials' }, { Authorization: basic(client.id, client.secret) }),
    ip,
  });

/** Sends until a 429 (at most 2 × LIMIT + 1 requests); returns it and the statuses before it. */
async function untilLimited(request: () => Promise<Response>): Promise<{ limited: Response; before: number[] }> {
  const before: number[] = [];
  for (let i = 0; i < 2 * LIMIT + 1; i++) {
    const res = await request();
    if (res.status === 429) return { limited: res, before };
    before.push(res.status);
    await res.body?.cancel();
  }
  throw new Error(`no 429 after ${before.length} requests: ${before.join(', ')}`);
}

async function expectJson429(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get('Retry-After')).toBe('60');
  expect(res.headers.get('Content-Type')).toBe('application/json;charset=UTF-8');
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = (await res.json()) as Record<string, string>;
  expect(body.error).toBe('temporarily_unavailable');
  expect(body.error_description).toMatch(/retry after 60 seconds/);
}

async function expectPage429(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get('Retry-After')).toBe('60');
  expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  const html = await res.text();
  expect(html).toMatch(/^<!DOCTYPE html>/);
  expect(html).toContain('Too many attempts');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('token endpoint: per authenticated client', () => {
  it('answers 429 + Retry-After + RFC 6749 §5.2 JSON over the limit, from any address; another client is unaffected', async () => {
    const [a, b] = [await seedClient(), await seedClient()];
    // A new address for every request: the count is the client's, not the address's.
    const { limited, before } = await untilLimited(() => cc(a));
    expect(before.length).toBeGreaterThanOrEqual(LIMIT);
    expect(new Set(before)).toEqual(new Set([200]));
    await expectJson429(limited);
    expect(limited.headers.get('WWW-Authenticate')).toBeNull();
    expect((await cc(b)).status).toBe(200);
    // The CitrusAd path is the same endpoint and the same count.
    expect(
      (
        await send('/v1/oauth2/token', {
          ...form({ grant_type: 'client_credentials' }, { Authorization: basic(a.id, a.secret) }),
        })
      ).status,
    ).toBe(429);
  });

  it('does not count wrong secrets against the client: a victim is never locked out by someone else', async () => {
    const victim = await seedClient();
    const ip = freshIp();
    const wrong = { id: victim.id, secret: 'not-the-secret' };
    const { limited, before } = await untilLimited(() => cc(wrong, ip));
    expect(new Set(before)).toEqual(new Set([401]));
    // Failed authentications are counted per address: that address is told to back off, without a Basic challenge.
    await expectJson429(limited);
    expect(limited.headers.get('WWW-Authenticate')).toBeNull();
    // The victim, from anywhere (even that address: only failures count there), still gets its tokens.
    expect((await cc(victim)).status).toBe(200);
    expect((await cc(victim, ip)).status).toBe(200);
  });

  it('introspection and revocation count per client, each apart from the token endpoint', async () => {
    const client = await seedClient();
    const introspect = () =>
      send('/oauth2/introspect', {
        ...form({ token: 'x' }, { Authorization: basic(client.id, client.secret) }),
        ip: freshIp(),
      });
    const { limited, before } = await untilLimited(introspect);
    expect(new Set(before)).toEqual(new Set([200]));
    await expectJson429(limited);
    const revoke = () =>
      send('/oauth2/revoke', {
        ...form({ token: 'x' }, { Authorization: basic(client.id, client.secret) }),
        ip: freshIp(),
      });
    const r = await untilLimited(revoke);
    expect(new Set(r.before)).toEqual(new Set([200]));
    await expectJson429(r.limited);
    expect((await cc(client)).status).toBe(200);
  });

  it('a public client names itself only: its count is per client and address', async () => {
    const pub = await seedClient({ confidential: false });
    const ip = freshIp();
    const revoke = (from: string) => send('/oauth2/revoke', { ...form({ token: 'x', client_id: pub.id }), ip: from });
    const { limited } = await untilLimited(() => revoke(ip));
    await expectJson429(limited);
    expect((await revoke(freshIp())).status).toBe(200);
  });
});

describe('per address, before any work', () => {
  it('sign-in (POST /login): an HTML 429 page; another address is unaffected', async () => {
    const ip = freshIp();
    const signIn = (from: string) => send('/login', { ...form({ email: 'a@example.com', password: 'x' }), ip: from });
    const { limited, before } = await untilLimited(() => signIn(ip));
    expect(before.length).toBeGreaterThanOrEqual(LIMIT);
    expect(before.every((s) => s !== 429)).toBe(true);
    await expectPage429(limited);
    expect((await signIn(freshIp())).status).toBe(before[0]);
    // The sign-in page itself (GET) is not counted.
    expect((await send('/login', { ip })).status).toBe(200);
  });

  it('registration (/oauth2/register): a JSON 429; another address is unaffected', async () => {
    const ip = freshIp();
    const register = (from: string) =>
      send('/oauth2/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://app.example/cb'] }),
        ip: from,
      });
    const { limited, before } = await untilLimited(() => register(ip));
    expect(before.length).toBeGreaterThanOrEqual(LIMIT); // one count per request, not one per mounted middleware
    expect(new Set(before)).toEqual(new Set([401]));
    await expectJson429(limited);
    expect((await register(freshIp())).status).toBe(401);
    // RFC 7592 client configuration is behind the same count.
    expect((await send('/oauth2/register/some-client', { ip })).status).toBe(429);
  });

  it('authorization (/oauth2/authorize and /auth): an HTML 429 page; another address is unaffected', async () => {
    const ip = freshIp();
    const { limited, before } = await untilLimited(() => send('/oauth2/authorize?response_type=code', { ip }));
    expect(before.every((s) => s !== 429)).toBe(true);
    await expectPage429(limited);
    await expectPage429(await send('/auth?response_type=code', { ip }));
    expect((await send('/oauth2/authorize?response_type=code', { ip: freshIp() })).status).toBe(before[0]);
  });

  it('an IPv6 address counts as its /64', async () => {
    expect(networkKey('2001:DB8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(networkKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(networkKey('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(networkKey('192.0.2.7')).toBe('192.0.2.7');
    expect(networkKey(undefined)).toBe('unknown');
    let host = 0;
    const { limited } = await untilLimited(() =>
      send('/oauth2/authorize?response_type=code', { ip: `2001:db8:16:16::${(++host).toString(16)}` }),
    );
    await expectPage429(limited);
    expect((await send('/oauth2/authorize?response_type=code', { ip: '2001:db8:16:17::1' })).status).not.toBe(429);
  });
});

describe('a failing or missing limiter lets the request through (fail open) and logs a warning', () => {
  const broken = {
    limit: async () => {
      throw new Error('rate limiter unavailable');
    },
  };

  it.each([
    ['throws', envWith({ TOKEN_RATE_LIMITER: broken, IP_RATE_LIMITER: broken })],
    ['is missing', envWith({ TOKEN_RATE_LIMITER: undefined, IP_RATE_LIMITER: undefined })],
  ])('when the binding %s', async (_what, e) => {
    const warn = vi.spyOn(console, 'warn');
    const client = await seedClient();
    const ip = freshIp();
    for (let i = 0; i < LIMIT + 1; i++) {
      const res = await send(
        '/oauth2/token',
        { ...form({ grant_type: 'client_credentials' }, { Authorization: basic(client.id, client.secret) }), ip },
        e,
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as { token_type: string }).token_type).toBe('Bearer');
      const page = await send('/oauth2/authorize?response_type=code', { ip }, e);
      expect(page.status).not.toBe(429);
      expect(page.status).toBeLessThan(500);
    }
    if (_what === 'throws') {
      expect(warn.mock.calls.some(([line]) => String(line).includes('"event":"rate_limit_unavailable"'))).toBe(true);
    }
  });
});
