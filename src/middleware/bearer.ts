/**
 * The one bearer check of every protected route (RFC 6750): where the access token may be presented, how it is
 * authenticated (src/tokens/authenticate-access-token.ts, the only public way) and which scope it needs.
 * `requireBearer(options)` is a middleware factory in the manner of hono's `jwt`: options checked once at creation,
 * the verified claims set as the typed variable `token`, which exists only on routes behind it (`BearerEnv`).
 */
import type { MiddlewareHandler } from 'hono';
import { getConfig } from '../config';
import { readBodyText } from '../lib/body';
import { bearerError } from '../lib/errors';
import { MAX_FORM_BYTES, parseUrlEncoded } from '../oauth/form';
import type { Scope } from '../oauth/scopes';
import { authenticateAccessToken, type RevocationCheck } from '../tokens/authenticate-access-token';
import { type AccessTokenClaims, tokenScopes } from '../tokens/verify-access-token';
import type { AppEnv } from '../types';

/**
 * Whether `?access_token=` (RFC 6750 §2.3) is accepted. A URL leaks through logs, history and Referer, so even
 * where it is (`files-only`: the image routes, seeds 000/002) only a token whose scope is exactly `files`
 * (read-only, meant to be embedded in image URLs) passes; `never` refuses any token in the URL.
 */
export type QueryRule = 'files-only' | 'never';

export interface BearerOptions {
  /** The token must carry at least one of these scopes. */
  scopes: readonly Scope[];
  query: QueryRule;
  /**
   * How the deny-list is consulted: `snapshot` (default) is the in-isolate copy, no storage read in steady state,
   * revocations seen within 30 s; `now` reads D1 on every request.
   */
  revocation?: RevocationCheck;
  /**
   * RFC 6750 §2.2: also accept `access_token` in an application/x-www-form-urlencoded POST body (OpenID Connect
   * UserInfo, Core §5.3.1). Off by default: no other route reads a token from its body.
   */
  body?: boolean;
}

/** The environment of a route behind `requireBearer`: `c.get('token')` is the verified access token. */
export type BearerEnv = AppEnv & { Variables: { token: AccessTokenClaims } };

export interface PresentedToken {
  token: string;
  /** True when the token came from `?access_token=` (RFC 6750 §2.3). */
  fromQuery: boolean;
}

/** Extracts the token from `Authorization: Bearer` (RFC 6750 §2.1); null when absent, invalid_request when malformed. */
export function bearerFromHeader(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!m) {
    if (/^bearer\b/i.test(header))
      throw bearerError('invalid_request', 'The Authorization header must be "Bearer <token>".');
    return null;
  }
  return m[1];
}

/**
 * The access token of a request, or null when it carries none. RFC 6750 §2: a client MUST NOT use more than one
 * method, so a token both in the header and in the URL is invalid_request, on every route and before anything
 * else; so is a repeated `access_token`, and any `access_token` in the URL where `query` is `never` (§3.1: an
 * unsupported parameter). The form-body method (§2.2) is not supported anywhere.
 */
export function presentedToken(request: Request, query: QueryRule, realm?: string): PresentedToken | null {
  const fromHeader = bearerFromHeader(request.headers.get('Authorization'));
  const inUrl = request.url.includes('?') ? new URL(request.url).searchParams.getAll('access_token') : [];
  if (fromHeader && inUrl.length > 0) {
    throw bearerError(
      'invalid_request',
      'Send the access token either in the Authorization header or in the access_token parameter, not both.',
      { realm },
    );
  }
  if (inUrl.length > 1) throw bearerError('invalid_request', 'The access_token parameter is repeated.', { realm });
  if (inUrl.length === 1 && query === 'never') {
    throw bearerError(
      'invalid_request',
      'This resource does not accept an access token in the URL; send it in the Authorization header.',
      { realm },
    );
  }
  if (fromHeader) return { token: fromHeader, fromQuery: false };
  if (inUrl.length === 1 && inUrl[0] !== '') return { token: inUrl[0], fromQuery: true };
  return null;
}

/** RFC 6750 §2.2: the header, the URL, or the form body — exactly one of them (§2: not more than one method). */
async function presentedTokenWithBody(request: Request, query: QueryRule): Promise<PresentedToken | null> {
  const other = presentedToken(request, query);
  const type = (request.headers.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return other;
  const form = parseUrlEncoded(await readBodyText(request, MAX_FORM_BYTES, undefined, { form: true }), 'request body');
  const inBody = form.get('access_token');
  if (inBody === undefined) return other;
  if (other)
    throw bearerError('invalid_request', 'Send the access token in one place only: the header or the body, not both.');
  return { token: inBody, fromQuery: false };
}

/**
 * The scope rule: a token from the URL must have scope exactly `files`, refused otherwise as invalid_token (401),
 * saying what to request instead; then the token needs one of `scopes` (403 insufficient_scope, RFC 6750 §3.1).
 */
export function assertScopes(claims: AccessTokenClaims, fromQuery: boolean, scopes: readonly Scope[]): void {
  const held = tokenScopes(claims);
  if (fromQuery && !(held.length === 1 && held[0] === 'files')) {
    throw bearerError(
      'invalid_token',
      'Only a token with scope "files" alone may be sent in the URL; request one with scope=files for image URLs, and send other tokens in the Authorization header.',
      { scope: 'files' },
    );
  }
  if (!held.some((s) => (scopes as readonly string[]).includes(s))) {
    throw bearerError(
      'insufficient_scope',
      `This request needs the scope ${scopes.map((s) => `"${s}"`).join(' or ')}.`,
      {
        scope: scopes.join(' '),
      },
    );
  }
}

/**
 * RFC 9068 §4, RFC 8707: the token's `aud` must name this resource (our /v1, ACCESS_TOKEN_AUDIENCE); a token
 * obtained for another registered resource server is invalid_token here, as the RFC 6750 §3.1 text says.
 */
export function assertAudience(claims: AccessTokenClaims, audience: string): void {
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience)) {
    throw bearerError(
      'invalid_token',
      `The access token is not meant for this resource; request one with resource=${audience}.`,
      { reason: 'audience' },
    );
  }
}

/** Guards a route: placement rule, authentication (signature, claims, deny-list), audience, scope; then `c.set('token')`. */
export function requireBearer(options: BearerOptions): MiddlewareHandler<BearerEnv> {
  if (options.scopes.length === 0) throw new Error('requireBearer: scopes must name at least one scope');
  const needed = options.scopes.join(' ');
  const revocation = options.revocation ?? 'snapshot';
  return async function bearerMiddleware(c, next) {
    const presented =
      options.body && c.req.method === 'POST'
        ? await presentedTokenWithBody(c.req.raw, options.query)
        : presentedToken(c.req.raw, options.query);
    // RFC 6750 §3.1: no token at all gets the bare challenge, without an error code.
    if (!presented) throw bearerError(null, 'An access token is required.', { scope: needed });
    const claims = await authenticateAccessToken(c.env, presented.token, revocation);
    assertAudience(claims, getConfig(c.env).audience);
    assertScopes(claims, presented.fromQuery, options.scopes);
    c.set('token', claims);
    await next();
  };
}
