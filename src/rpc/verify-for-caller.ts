/**
 * What the service-binding verifier (./token-verifier.ts) answers another Worker: the verified claims, or a typed
 * refusal carrying the exact RFC 6750 §3 `WWW-Authenticate` value to send. Every rule is the product's own, imported
 * (never copied): authentication with the deny-list read from D1 at once (authenticateAccessToken 'now', as
 * introspection, RFC 7662 §2.2), the placement rule (presentedToken) and the scope rule (assertScopes) of the bearer
 * middleware; the challenge is built by packages/resource-server's builder, so both ways in word it the same.
 */
import { bearerChallenge, type RefusalCode } from '../../packages/resource-server/src/refusal.js';
import { getConfig } from '../config';
import { OAuthError } from '../lib/errors';
import { assertScopes, presentedToken } from '../middleware/bearer';
import { isScope, type Scope } from '../oauth/scopes';
import { guardStorage, isStorageUnavailable } from '../storage/unavailable';
import { authenticateAccessToken } from '../tokens/authenticate-access-token';
import { type AccessTokenClaims, tokenScopes } from '../tokens/verify-access-token';

export interface CallerVerifyOptions {
  /** The token must carry at least one of these scopes (the product's rule, src/middleware/bearer.ts). */
  scopes: string[];
  /**
   * The caller's resource identifier: the token's `aud` must contain it (RFC 9068 §4). Absent, it is our own
   * API's (ACCESS_TOKEN_AUDIENCE): a token obtained for another resource server (RFC 8707, issue 13) never passes
   * a caller that did not say it is that resource.
   */
  audience?: string;
  /** RFC 9728 §5.1: the caller's metadata URL, sent as `resource_metadata` in every challenge. */
  resourceMetadata?: string;
  /** RFC 6750 §3 `realm` of the challenges; none by default. */
  realm?: string;
}

export interface CallerRequestOptions extends CallerVerifyOptions {
  /** Accept `?access_token=` (RFC 6750 §2.3), and then only for a token whose scope is exactly `files`. */
  allowQueryToken?: boolean;
}

/** The parts of an HTTP request the placement rule reads; a `Request` (which Workers RPC can pass) fits too. */
export type RequestLike = Request | { authorization?: string | null; url: string };

/**
 * The RFC 9068 §2.2 claims the caller gets. Named members only: an index signature of `unknown` (jose's
 * JWTPayload) is not structured-cloneable, so Workers RPC's types would erase the whole success branch.
 */
export interface VerifiedClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  /** The grant (refresh family or code grant) the token came from; absent for client_credentials. */
  fid?: string;
}

export type CallerVerified = { ok: true; claims: VerifiedClaims; scopes: string[] };

export interface CallerRefusal {
  ok: false;
  /** RFC 6750 §3.1. A request with no token is `invalid_token` with `missing: true` and a bare challenge. */
  error: RefusalCode;
  status: 400 | 401 | 403;
  /** Safe to send as `error_description`. */
  description: string;
  /** The full `WWW-Authenticate` value, starting with `Bearer`. */
  challenge: string;
  missing: boolean;
}

/** Storage (D1, KV) failed: the token may be fine, so 503 and try again (RFC 6749 §4.1.2.1's code), never 401 or 500. */
export interface CallerUnavailable {
  ok: false;
  error: 'temporarily_unavailable';
  status: 503;
  description: string;
  /** Seconds, for a `Retry-After` header (RFC 9110 §10.2.3). */
  retryAfter: number;
}

export type CallerResult = CallerVerified | CallerRefusal | CallerUnavailable;

export const RETRY_AFTER_SECONDS = 5;
const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/** Verifies a token the caller extracted itself (from its Authorization header). */
export async function verifyForCaller(env: Env, token: string, options: CallerVerifyOptions): Promise<CallerResult> {
  const scopes = checkScopes(options);
  // The storage guard of the HTTP routes (src/storage/unavailable.ts), so the log tells a storage failure from a bug.
  const guarded = guardStorage(env);
  return settle(options, scopes, () => authenticate(guarded, token, false, scopes, options));
}

/** Finds the token in the request with the product's placement rule (RFC 6750 §2), then verifies it. */
export async function verifyRequestForCaller(
  env: Env,
  request: RequestLike,
  options: CallerRequestOptions,
): Promise<CallerResult> {
  const scopes = checkScopes(options);
  const req = asRequest(request);
  const guarded = guardStorage(env);
  return settle(options, scopes, async () => {
    const presented = presentedToken(req, options.allowQueryToken ? 'files-only' : 'never');
    if (!presented) return refusal('invalid_token', 'An access token is required.', options, scopes.join(' '), true);
    return authenticate(guarded, presented.token, presented.fromQuery, scopes, options);
  });
}

async function authenticate(
  env: Env,
  token: string,
  fromQuery: boolean,
  scopes: Scope[],
  options: CallerVerifyOptions,
): Promise<CallerResult> {
  const claims = await authenticateAccessToken(env, token, 'now');
  const audience = options.audience ?? getConfig(env).audience;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience))
    return refusal('invalid_token', 'The access token is not meant for this resource.', options);
  assertScopes(claims, fromQuery, scopes);
  return { ok: true, claims: callerClaims(claims), scopes: tokenScopes(claims) };
}

function callerClaims(c: AccessTokenClaims): VerifiedClaims {
  // `aud` is present: verification requires it (requiredClaims in verify-access-token.ts).
  const aud = c.aud as string | string[];
  const out: VerifiedClaims = {
    iss: c.iss,
    sub: c.sub,
    aud,
    client_id: c.client_id,
    scope: c.scope,
    jti: c.jti,
    iat: c.iat,
    exp: c.exp,
  };
  if (c.fid !== undefined) out.fid = c.fid;
  return out;
}

/**
 * An OAuthError of the product's rules becomes a refusal (the scope its challenge names kept, RFC 6750 §3); any
 * other error (a storage failure, issue 16, or anything unforeseen) is logged and answered temporarily_unavailable, a
 * typed result the caller turns into 503 + Retry-After: a Workers RPC call never rejects with an opaque error.
 */
async function settle(
  options: CallerVerifyOptions,
  scopes: Scope[],
  run: () => Promise<CallerResult>,
): Promise<CallerResult> {
  try {
    return await run();
  } catch (err) {
    if (
      err instanceof OAuthError &&
      (err.code === 'invalid_request' || err.code === 'invalid_token' || err.code === 'insufficient_scope')
    ) {
      const scope = /scope="([^"]*)"/.exec(err.headers['WWW-Authenticate'] ?? '')?.[1];
      return refusal(
        err.code,
        err.description,
        options,
        scope ?? (err.code === 'insufficient_scope' ? scopes.join(' ') : undefined),
      );
    }
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'token_verifier_unavailable',
        storage: isStorageUnavailable(err),
        name: e.name,
        message: e.message.slice(0, 500),
      }),
    );
    return {
      ok: false,
      error: 'temporarily_unavailable',
      status: 503,
      description: 'The authorization server cannot check the token right now; try again shortly.',
      retryAfter: RETRY_AFTER_SECONDS,
    };
  }
}

function refusal(
  code: RefusalCode,
  description: string,
  options: CallerVerifyOptions,
  scope?: string,
  missing = false,
): CallerRefusal {
  return {
    ok: false,
    error: code,
    status: STATUS[code],
    description,
    // RFC 6750 §3.1: a request with no token gets no error code in its challenge.
    challenge: bearerChallenge(missing ? null : code, description, {
      realm: options.realm,
      scope,
      resourceMetadata: options.resourceMetadata,
    }),
    missing,
  };
}

/**
 * The options are the calling Worker's code, not its client's input: a mistake there is a TypeError thrown to the
 * caller (as a misconfigured middleware throws at creation), not a refusal its users would be shown.
 */
function checkScopes(options: CallerVerifyOptions): Scope[] {
  const scopes = options?.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0)
    throw new TypeError('TokenVerifier: options.scopes must name at least one scope');
  const unknown = scopes.filter((s) => typeof s !== 'string' || !isScope(s));
  if (unknown.length) throw new TypeError(`TokenVerifier: unknown scopes ${JSON.stringify(unknown).slice(0, 200)}`);
  return scopes as Scope[];
}

function asRequest(request: RequestLike): Request {
  if (request instanceof Request) return request;
  let url: URL;
  try {
    url = new URL(request?.url);
  } catch {
    throw new TypeError('TokenVerifier: request.url must be an absolute URL');
  }
  return new Request(url, { headers: request.authorization ? { Authorization: request.authorization } : {} });
}
