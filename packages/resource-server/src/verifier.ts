/**
 * `createVerifier`: checks an access token of the edge-oauth authorization server (an RFC 9068 JWT) with the same
 * rules the server applies on its own routes (src/tokens/verify-access-token.ts there), and answers with the
 * claims or a typed RFC 6750 refusal. Needs only `fetch` and WebCrypto: Workers, Node ≥ 20, Deno, Bun.
 */
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import { createKeySource, type FetchLike, KeySourceError } from './key-source.js';
import { resourceMetadataUrl } from './metadata.js';
import { type ChallengeParams, type Refusal, refusal } from './refusal.js';
import { tokenFromRequest } from './token-source.js';

/** The server signs with ES256 today and may rotate to EdDSA; never a symmetric algorithm, never `none`. */
export const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA'] as const;
const ASYMMETRIC = /^(ES256|ES384|ES512|EdDSA|Ed25519|RS256|RS384|RS512|PS256|PS384|PS512)$/;
/** The server's own tolerance for clock skew between machines, seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 30;
/** The server's tokens are ~700 bytes; anything far larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 4096;
/** Headers that would let a token choose its own key: always refused (RFC 8725 §3.10). */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

/** RFC 9068 §2.2 claims, as the server issues them. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface Verified {
  ok: true;
  claims: AccessTokenClaims;
  /** `claims.scope` split on spaces. */
  scopes: string[];
  /** True when the token came from `?access_token=`. */
  fromQuery: boolean;
}

export type VerifyResult = Verified | Refusal;

export interface VerifierOptions {
  /** The authorization server's issuer identifier, exactly as in its metadata (`iss` must equal it). */
  issuer: string;
  /** This resource's canonical URI: tokens whose `aud` does not contain it are refused (RFC 9068 §4). */
  audience: string;
  /** The JWK Set URL; by default read from the issuer's RFC 8414 metadata (`jwks_uri`). */
  jwksUri?: string;
  /** Accepted `alg` values; asymmetric only. Default ES256 and EdDSA. */
  algorithms?: string[];
  /** Seconds of clock skew allowed on exp, nbf and iat. Default 30, as the server. */
  clockTolerance?: number;
  /**
   * RFC 9728 §5.1 `resource_metadata` in every challenge: default derived from `audience` (RFC 9728 §3.1);
   * a string to override; false to leave it out.
   */
  resourceMetadataUrl?: string | false;
  /** Optional `realm` in challenges (RFC 6750 §3). */
  realm?: string;
  /** The exact scope a token in a URL must have (the server's rule: a URL leaks, so read-only only). Default "files". */
  queryTokenScope?: string;
  /** fetch used for discovery and the JWK Set (a service binding's fetch, a test interceptor, a proxy). */
  fetch?: FetchLike;
  /** ms between reloads caused by an unknown `kid`. Default 30 000 (jose). */
  jwksCooldown?: number;
  /** ms a fetched JWK Set is kept. Default 300 000, the server's JWKS `max-age`. */
  jwksMaxAge?: number;
  /** ms before a discovery or JWKS fetch is abandoned. Default 5 000. */
  fetchTimeout?: number;
  /** The current time in ms; for tests. Default Date.now. */
  now?: () => number;
}

export interface VerifyOptions {
  /** Scopes the token must carry: all of them by default, any one of them with `scopeMatch: 'any'`. */
  scopes?: string[];
  scopeMatch?: 'all' | 'any';
}

export interface VerifyRequestOptions extends VerifyOptions {
  /** Accept `?access_token=` (RFC 6750 §2.3), only for a token whose scope is exactly `queryTokenScope`. */
  allowQueryToken?: boolean;
}

export interface Verifier {
  /** Verifies a token you extracted yourself. Throws `ResourceServerUnavailableError` only when the keys cannot be fetched. */
  verify(token: string, options?: VerifyOptions & { fromQuery?: boolean }): Promise<VerifyResult>;
  /** Finds the token in the request (RFC 6750 §2) and verifies it. */
  verifyRequest(request: Request, options?: VerifyRequestOptions): Promise<VerifyResult>;
  /** The `resource_metadata` URL the challenges carry, if any. */
  readonly resourceMetadataUrl: string | undefined;
}

/** The JWK Set could not be fetched: answer 503, not 401 (the token may be fine). `cause` says why. */
export class ResourceServerUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The authorization server keys are unavailable.', options);
    this.name = 'ResourceServerUnavailableError';
  }
}

export function createVerifier(options: VerifierOptions): Verifier {
  // Options are checked once, at creation (house style: middleware as a factory).
  if (!options.issuer) throw new TypeError('createVerifier: issuer is required');
  if (!options.audience) throw new TypeError('createVerifier: audience is required');
  const algorithms = options.algorithms ?? [...DEFAULT_ALGORITHMS];
  const weak = algorithms.filter((a) => !ASYMMETRIC.test(a));
  if (algorithms.length === 0 || weak.length) {
    throw new TypeError(`createVerifier: algorithms must be asymmetric JWS algorithms, got ${JSON.stringify(weak)}`);
  }
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  const now = options.now ?? Date.now;
  const queryTokenScope = options.queryTokenScope ?? 'files';
  const metadataUrl =
    options.resourceMetadataUrl === false
      ? undefined
      : (options.resourceMetadataUrl ?? resourceMetadataUrl(options.audience));
  const getKey = createKeySource({
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    fetch: options.fetch,
    cooldown: options.jwksCooldown ?? 30_000,
    maxAge: options.jwksMaxAge ?? 300_000,
    timeout: options.fetchTimeout ?? 5_000,
  });
  const base: ChallengeParams = { realm: options.realm, resourceMetadata: metadataUrl };

  const invalid = (description: string, reason?: string) => refusal('invalid_token', description, { ...base, reason });

  async function verifyToken(token: string, opts: VerifyOptions & { fromQuery?: boolean } = {}): Promise<VerifyResult> {
    const fromQuery = opts.fromQuery ?? false;
    if (token.length > MAX_TOKEN_LENGTH) return invalid('The access token is too long.');
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
      return invalid('The access token is not a signed JWT.');
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return invalid('The access token header is malformed.');
    }
    if (FORBIDDEN_HEADERS.some((h) => h in header)) return invalid('The access token header names its own key.');
    if (typeof header.kid !== 'string') return invalid('The access token names no key.');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        // RFC 9068 §4: typ MUST be at+jwt; jose also accepts "application/at+jwt" (RFC 9068 §2.1, RFC 7515 §4.1.9).
        typ: 'at+jwt',
        algorithms,
        clockTolerance,
        currentDate: new Date(now()),
        // RFC 9068 §2.2, plus `scope`, which the server always issues.
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
      }));
    } catch (err) {
      if (err instanceof KeySourceError) throw new ResourceServerUnavailableError({ cause: err });
      if (err instanceof errors.JWTExpired) return invalid('The access token has expired.', err.code);
      if (err instanceof errors.JWKSNoMatchingKey)
        return invalid('The access token was not signed by a key of this server.', err.code);
      if (err instanceof errors.JOSEError)
        return invalid('The access token is invalid.', `${err.code}: ${err.message}`);
      throw err;
    }
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.client_id !== 'string' ||
      typeof payload.scope !== 'string' ||
      typeof payload.jti !== 'string'
    ) {
      return invalid('The access token claims are malformed.');
    }
    // jose checks iat's type only; a token issued in the future is as suspect as an expired one.
    if ((payload.iat as number) > now() / 1000 + clockTolerance)
      return invalid('The access token was issued in the future.');
    const claims = payload as AccessTokenClaims;
    const scopes = claims.scope.split(' ').filter(Boolean);

    // A token in a URL leaks through logs, history and Referer: only a token whose scope is exactly the
    // read-only query scope may come there; others are refused as invalid_token, naming the scope to request.
    if (fromQuery && !(scopes.length === 1 && scopes[0] === queryTokenScope)) {
      return refusal(
        'invalid_token',
        `Only a token with scope "${queryTokenScope}" alone may be sent in the URL; send other tokens in the Authorization header.`,
        { ...base, scope: queryTokenScope },
      );
    }
    const needed = opts.scopes ?? [];
    if (needed.length) {
      const ok =
        opts.scopeMatch === 'any' ? needed.some((s) => scopes.includes(s)) : needed.every((s) => scopes.includes(s));
      if (!ok) {
        const list = needed.map((s) => `"${s}"`).join(opts.scopeMatch === 'any' ? ' or ' : ' and ');
        // RFC 6750 §3.1: 403, with the scope needed in the challenge.
        return refusal('insufficient_scope', `This request needs the scope ${list}.`, {
          ...base,
          scope: needed.join(' '),
        });
      }
    }
    return { ok: true, claims, scopes, fromQuery };
  }

  return {
    verify: verifyToken,
    async verifyRequest(request, opts = {}) {
      const source = tokenFromRequest(request, opts);
      if (source.kind === 'malformed') return refusal('invalid_request', source.description, base);
      if (source.kind === 'missing') {
        // RFC 6750 §3.1: no error code in the challenge of a request that sent no token; the scope helps the client.
        return refusal('invalid_token', 'An access token is required.', {
          ...base,
          missing: true,
          scope: opts.scopes?.length ? opts.scopes.join(' ') : undefined,
        });
      }
      return verifyToken(source.token, { ...opts, fromQuery: source.fromQuery });
    },
    resourceMetadataUrl: metadataUrl,
  };
}
