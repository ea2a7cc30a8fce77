/** Shared helpers for tests that drive the Worker over HTTP, the way a client would. */
import { env, exports } from 'cloudflare:workers';
import { createClient, type NewClient } from '../src/storage/clients';
import { createUser } from '../src/storage/users';

export const ORIGIN = 'http://localhost:8787';

/** Sends a request through the Worker's own fetch handler (the whole app: middleware, routing, errors). */
const worker = (exports as unknown as { default: Fetcher }).default;
export function call(path: string, init?: RequestInit): Promise<Response> {
  return worker.fetch(new Request(`${ORIGIN}${path}`, init));
}

/** RFC 6749 §2.3.1: form-encode id and secret, then Base64 of "id:secret". */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${btoa(`${enc(id)}:${enc(secret)}`)}`;
}

export interface TestClient {
  id: string;
  secret: string;
}

let seq = 0;
/** Registers a confidential client with every grant and scope unless told otherwise. */
export async function seedClient(overrides: Partial<NewClient> = {}): Promise<TestClient & { confidential: boolean }> {
  const { client, secret } = await createClient(env.DB, env.CACHE, {
    name: `Test app ${++seq}`,
    grantTypes: ['client_credentials', 'password', 'refresh_token', 'authorization_code'],
    scopes: ['base', 'files', 'upload_files'],
    redirectUris: ['https://app.example/cb'],
    ...overrides,
  });
  return { id: client.id, secret: secret ?? '', confidential: client.confidential };
}

/** Creates a user with a unique email (PBKDF2 at full cost: ~25 ms). */
export async function seedUser(
  password = 'correct horse battery staple',
): Promise<{ id: string; email: string; password: string }> {
  const email = `user${++seq}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const user = await createUser(env.DB, email, password);
  return { id: user.id, email, password };
}

/** POSTs a token request with client_secret_basic. */
export function tokenRequest(
  params: Record<string, string>,
  options: { client?: TestClient; path?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers };
  if (options.client) headers.Authorization = basic(options.client.id, options.client.secret);
  const path = (options.path ?? '/oauth2/token') + (options.query ? `?${options.query}` : '');
  return call(path, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
}

export interface TokenJson {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** Asserts a 200 token response and returns its body. */
export async function expectTokens(res: Response): Promise<TokenJson> {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenJson;
}

/** Reads an RFC 6749 §5.2 error body. */
export async function errorOf(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await res.json()) as { error: string; error_description: string };
  return { status: res.status, error: body.error, description: body.error_description };
}
