/**
 * Fresh state for one fault case, written straight through the product's storage functions (fast: no PBKDF2 where a
 * password is never checked, no browser flow where only its result matters), so every case is independent.
 */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { getConfig } from '../../src/config';
import { randomId, sha256 } from '../../src/lib/random';
import { maskOf, parseScope } from '../../src/oauth/scopes';
import { newCodeStatement } from '../../src/storage/authorization-codes';
import { newRefreshFamily } from '../../src/storage/refresh-tokens';
import { builtinKey } from '../../src/storage/resource-servers';
import { type Browser, pkcePair } from '../authz-helpers';
import { basic, ORIGIN, type TestClient } from '../helpers';

/** A user row whose password is never checked (the grants that only need the user to exist and be active). */
export async function quickUser(): Promise<{ id: string; email: string }> {
  const id = randomId('usr', 16);
  const email = `${id}@faults.example`;
  const now = Math.floor(Date.now() / 1000);
  await env.DB.prepare(
    "INSERT INTO users (id, email, password_hash, status, created_at, updated_at) VALUES (?1, ?2, 'x', 'active', ?3, ?3)",
  )
    .bind(id, email, now)
    .run();
  return { id, email };
}

/** The first refresh token of a new family for `client` and `user`, as the password grant would store it. */
export async function seedRefreshToken(clientId: string, userId: string, scope = 'base'): Promise<string> {
  const config = getConfig(env);
  const rt = await newRefreshFamily(env.DB, {
    clientId,
    userId,
    scope,
    scopeMask: maskOf(parseScope(scope)),
    ttlSeconds: config.refreshTokenTtl,
    resources: [builtinKey(config)],
  });
  await rt.statement.run();
  return rt.token;
}

/** An unconsumed authorization code with PKCE, as the consent step would store it. */
export async function seedCode(
  clientId: string,
  userId: string,
  scope = 'base',
): Promise<{ code: string; verifier: string }> {
  const config = getConfig(env);
  const { verifier, challenge } = await pkcePair();
  const { code, statement } = await newCodeStatement(env.DB, {
    clientId,
    userId,
    redirectUri: 'https://app.example/cb',
    redirectUriSent: true,
    scope,
    scopeMask: maskOf(parseScope(scope)),
    codeChallenge: challenge,
    ttlSeconds: 600,
    resources: [builtinKey(config)],
  });
  await statement.run();
  return { code, verifier };
}

/** A form POST with client_secret_basic (RFC 6749 §2.3.1). */
export function formRequest(path: string, params: Record<string, string>, client?: TestClient): Request {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (client) headers.Authorization = basic(client.id, client.secret);
  return new Request(`${ORIGIN}${path}`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
}

/** A JSON request with a bearer token. */
export function jsonRequest(method: string, path: string, token: string | null, body?: unknown): Request {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return new Request(`${ORIGIN}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** One row of refresh_tokens by the plaintext token. */
export async function refreshRow(token: string): Promise<{
  family_id: string;
  used_at: number | null;
  replaced_by: string | null;
  revoked_at: number | null;
} | null> {
  return env.DB.prepare('SELECT family_id, used_at, replaced_by, revoked_at FROM refresh_tokens WHERE hash = ?1')
    .bind(await sha256(token))
    .first();
}

export async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * A refresh token after a faulted rotation: never revoked by our failure; unused, it has no successor; used, it has
 * exactly one live successor in its own family (src/storage/refresh-tokens.ts rotates in one batch).
 */
export async function expectRotationConsistent(token: string): Promise<void> {
  const row = await refreshRow(token);
  expect(row).not.toBeNull();
  expect(row!.revoked_at).toBeNull();
  if (row!.used_at === null) {
    expect(row!.replaced_by).toBeNull();
    return;
  }
  expect(row!.replaced_by).toBeTruthy();
  expect(
    await count(
      'SELECT COUNT(*) AS n FROM refresh_tokens WHERE hash = ?1 AND family_id = ?2 AND revoked_at IS NULL',
      row!.replaced_by,
      row!.family_id,
    ),
  ).toBe(1);
}

/** A Request as the browser `b` would send it (its cookies; same-origin form headers on a POST). */
export function fromBrowser(b: Browser, path: string, form?: Record<string, string>): Request {
  const headers = new Headers();
  if (b.jar.size > 0) headers.set('Cookie', [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '));
  if (!form) return new Request(`${ORIGIN}${path}`, { headers, redirect: 'manual' });
  headers.set('Content-Type', 'application/x-www-form-urlencoded');
  headers.set('Origin', ORIGIN);
  headers.set('Sec-Fetch-Site', 'same-origin');
  return new Request(`${ORIGIN}${path}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}
