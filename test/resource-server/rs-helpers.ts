/**
 * Helpers for the resource-server library tests: real tokens from the product's token endpoint, and a `fetch`
 * for the library that forwards to the product's own Worker (the library fetches discovery and the JWKS over
 * "the network"; here the network is the product itself, never a mock of it).
 */
import { env, exports } from 'cloudflare:workers';
import { base64url, type CryptoKey, importJWK, type JWK, type JWTPayload } from 'jose';
import { createVerifier, type Verifier, type VerifierOptions } from '../../packages/resource-server/src/index';
import { expectTokens, ORIGIN, seedClient, tokenRequest } from '../helpers';

const worker = (exports as unknown as { default: Fetcher }).default;

export const ISSUER = env.ISSUER;
export const AUDIENCE = env.ACCESS_TOKEN_AUDIENCE;
/** RFC 9728 §3.1 for the product's default audience `http://localhost:8787/v1`. */
export const METADATA_URL = `${ORIGIN}/.well-known/oauth-protected-resource/v1`;

/** A fetch that sends the library's requests to the product Worker and records the paths it asked for. */
export function productFetch(): { fetch: VerifierOptions['fetch'] & {}; paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      paths.push(new URL(req.url).pathname);
      return worker.fetch(req);
    },
  };
}

/** A verifier for the product's default audience, fetching through the product. */
export function productVerifier(options: Partial<VerifierOptions> = {}): { verifier: Verifier; paths: string[] } {
  const { fetch, paths } = productFetch();
  return { verifier: createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch, ...options }), paths };
}

/** A client_credentials access token with `scope`, from the product's token endpoint. */
export async function productToken(scope = 'base'): Promise<string> {
  const client = await seedClient();
  return (await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope }, { client }))).access_token;
}

const enc = new TextEncoder();
const b64json = (value: unknown) => base64url.encode(enc.encode(JSON.stringify(value)));

/** The product's signing key (the first of the test SIGNING_KEYS), for forging tokens that differ in one way. */
export async function productSigningKey(): Promise<{ jwk: JWK & { kid: string }; key: CryptoKey }> {
  const jwk = (JSON.parse(env.SIGNING_KEYS) as { keys: (JWK & { kid: string })[] }).keys[0];
  return { jwk, key: (await importJWK(jwk, 'ES256')) as CryptoKey };
}

/** RFC 9068 §2.2 claims as the product issues them, with overrides (undefined deletes a claim). */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'client-1',
    aud: AUDIENCE,
    client_id: 'client-1',
    scope: 'base',
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 3600,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/**
 * Signs with WebCrypto directly (RFC 7515 §7.1), so that forgeries jose would refuse to build can be built.
 * A Uint8Array key means HMAC-SHA256 with those bytes (the HS256 confusion attack).
 */
export async function forge(
  payload: JWTPayload,
  header: Record<string, unknown>,
  key: CryptoKey | Uint8Array,
): Promise<string> {
  const full: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', ...header };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  const input = `${b64json(full)}.${b64json(payload)}`;
  let signature: ArrayBuffer;
  if (key instanceof Uint8Array) {
    const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    signature = await crypto.subtle.sign('HMAC', hmac, enc.encode(input));
  } else {
    signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, enc.encode(input));
  }
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A request to the resource with the token in the header, the query, or both. */
export function resourceRequest(
  token: string | null,
  where: 'header' | 'query' | 'both' = 'header',
  path = '/v1/things',
): Request {
  const url = new URL(`${ORIGIN}${path}`);
  if (token && where !== 'header') url.searchParams.set('access_token', token);
  const headers: Record<string, string> = {};
  if (token && where !== 'query') headers.Authorization = `Bearer ${token}`;
  return new Request(url, { headers });
}
