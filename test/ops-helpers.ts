/** Helpers for the operations tests (revocation, introspection, registration, admin API). */

import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { clock } from '../src/lib/clock';
import {
  basic,
  call,
  expectTokens,
  seedClient,
  seedUser,
  type TestClient,
  type TokenJson,
  tokenRequest,
} from './helpers';

export const ADMIN_TOKEN = env.ADMIN_TOKEN as string;

/** Freezes time at `start` (ms) and returns a function that moves it forward by seconds. */
export function freezeClock(start = Date.now()): (seconds: number) => void {
  let now = start;
  clock.now = () => now;
  return (seconds) => {
    now += seconds * 1000;
  };
}

export function formPost(path: string, params: Record<string, string>, client?: TestClient): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (client) headers.Authorization = basic(client.id, client.secret);
  return call(path, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
}

export const revokeRequest = (client: TestClient, params: Record<string, string>) =>
  formPost('/oauth2/revoke', params, client);

export async function introspect(client: TestClient, token: string, hint?: string): Promise<Record<string, unknown>> {
  const res = await formPost('/oauth2/introspect', { token, ...(hint ? { token_type_hint: hint } : {}) }, client);
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  return (await res.json()) as Record<string, unknown>;
}

export function me(accessToken: string): Promise<Response> {
  return call('/v1/me', { headers: { Authorization: `Bearer ${accessToken}` } });
}

/** A client, a user and a password-grant token pair for them. */
export async function userTokens(
  client?: TestClient & { confidential: boolean },
): Promise<{ client: TestClient; user: { id: string }; tokens: TokenJson }> {
  const c = client ?? (await seedClient());
  const user = await seedUser();
  const tokens = await expectTokens(
    await tokenRequest({ grant_type: 'password', username: user.email, password: user.password }, { client: c }),
  );
  return { client: c, user, tokens };
}

/** Calls the admin API with the test admin token (or the given one; null sends none). */
export function admin(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return call(`/admin${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The payload of a JWT, decoded without verification (tests only). */
export function claimsOf(jwt: string): {
  jti: string;
  exp: number;
  iat: number;
  sub: string;
  client_id: string;
  kid?: string;
} {
  const b64 = (s: string) => atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const [h, p] = jwt.split('.');
  return {
    ...(JSON.parse(b64(p)) as { jti: string; exp: number; iat: number; sub: string; client_id: string }),
    kid: (JSON.parse(b64(h)) as { kid?: string }).kid,
  };
}

/** Deny-list rows for one value. */
export async function revocationRows(value: string): Promise<number> {
  const { n } = (await env.DB.prepare('SELECT COUNT(*) AS n FROM revocations WHERE value = ?1')
    .bind(value)
    .first<{ n: number }>())!;
  return n;
}

/**
 * Runs `run` with every audit insert made to fail (a trigger raising inside D1), and expects it to reject: the audit
 * row is the last statement of every service batch, so this checks that the whole batch rolled back (issue 12).
 */
export async function withFailingAudit(run: () => Promise<unknown>): Promise<void> {
  await env.DB.exec(
    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'injected'); END",
  );
  try {
    await expect(run()).rejects.toThrow(/injected/);
  } finally {
    await env.DB.exec('DROP TRIGGER fail_audit');
  }
}
