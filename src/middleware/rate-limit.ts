/**
 * Rate limits at the edge (issue 16, docs/rate-limits.md) with the Workers Rate Limiting binding: a counter per key
 * and per Cloudflare location, approximate and eventually consistent, costing no storage round trip. It sheds load
 * and abuse before D1 is touched; the exact brute-force counter for passwords and secrets stays in D1
 * (src/storage/throttle.ts, docs/security.md).
 *
 * - `IP_RATE_LIMITER`, keyed by scope and network address (`CF-Connecting-IP`), in front of what anyone can call
 *   without credentials: sign-in, registration, authorization (`rateLimit({ scope, answer })`, mounted in
 *   src/app.ts); and, after the handler, the failed client authentications of the token, introspection and
 *   revocation endpoints (`rateLimit({ scope, countFailures: true })`).
 * - `TOKEN_RATE_LIMITER`, keyed by scope and client, called by those endpoints once the client has authenticated
 *   (`limitClient`). Keyed after authentication on purpose: a limit keyed by the client_id as presented would let
 *   anyone spend a victim client's budget with its (public) id and a wrong secret, and lock it out. Guessing
 *   secrets (RFC 6749 §2.3.1: endpoints using a password MUST be protected against brute force) is bounded by the
 *   D1 throttle, exact and per client, whose lock never refuses the right secret. A public client proves nothing,
 *   so its key also holds the address.
 *
 * Over the limit: 429 (RFC 6585 §4) with Retry-After (RFC 9110 §10.2.3) set to the binding's period, since the
 * binding does not say when its window ends. JSON endpoints answer an RFC 6749 §5.2 body with
 * `temporarily_unavailable` (the registered code for "temporary overloading", §4.1.2.1; `slow_down` of RFC 8628
 * §3.5 belongs to device-code polling and a client outside that flow does not know it); pages answer an HTML page.
 * A binding that is missing or throws lets the request through (fail open) with a warning in the log: the limiter
 * protects capacity, the D1 throttle protects secrets, and an outage of the limiter must not become an outage of
 * sign-in and token issuance.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { OAuthError } from '../lib/errors';
import type { AuthenticatedClient } from '../services/client-auth';
import type { AppEnv } from '../types';
import { ErrorPage } from '../ui/layout';
import { page, setPageHeaders } from '../ui/render';

/** `simple.period` of both bindings in wrangler.toml (10 or 60 s): change both together. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

type Ctx = Context<AppEnv>;
type LimiterName = 'TOKEN_RATE_LIMITER' | 'IP_RATE_LIMITER';
export type IpScope = 'signin' | 'register' | 'authorize';
export type ClientScope = 'token' | 'introspect' | 'revoke';

/**
 * The caller's address as Cloudflare saw it (`CF-Connecting-IP`, set by the edge and not forgeable through it).
 * An IPv6 address counts as its /64, the block one subscriber usually holds. Absent (local runs): one shared key.
 */
export function networkKey(header: string | undefined): string {
  if (!header) return 'unknown';
  const ip = header.trim().toLowerCase();
  if (!ip.includes(':')) return ip.slice(0, 45);
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, '') || '0')
    .join(':')}::/64`;
}

const address = (c: Ctx) => networkKey(c.req.header('CF-Connecting-IP'));

let warnedMissing = false;

/** One count against `key`; true when within the limit, or when the limiter is missing or fails (fail open). */
async function withinLimit(c: Ctx, name: LimiterName, key: string): Promise<boolean> {
  const limiter = (c.env as unknown as Partial<Record<LimiterName, RateLimit>>)[name];
  if (!limiter) {
    if (!warnedMissing) {
      warnedMissing = true;
      console.warn(JSON.stringify({ level: 'warn', event: 'rate_limit_unconfigured', binding: name }));
    }
    return true;
  }
  try {
    return (await limiter.limit({ key })).success;
  } catch (err) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        requestId: c.get('requestId'),
        event: 'rate_limit_unavailable',
        binding: name,
        message: String((err as Error)?.message ?? err).slice(0, 200),
      }),
    );
    return true;
  }
}

const RETRY_AFTER = { 'Retry-After': String(RATE_LIMIT_PERIOD_SECONDS) };

function tooManyError(who: string): OAuthError {
  return new OAuthError(
    'temporarily_unavailable',
    `Too many requests from this ${who}; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds.`,
    { status: 429, headers: RETRY_AFTER },
  );
}

/** The 429 a person sees: an HTML page with the page headers of src/ui/render.ts. */
async function tooManyPage(c: Ctx): Promise<Response> {
  const res = await page(
    c,
    ErrorPage({
      title: 'Too many attempts',
      detail: 'Too many requests came from your network in a short time. Wait a minute, then try again.',
    }) as JSX.Element,
    429,
  );
  setPageHeaders(res.headers);
  res.headers.set('Retry-After', RETRY_AFTER['Retry-After']);
  return res;
}

export type RateLimitOptions =
  /** Per address, before the handler; `answer` is the body type of the route (pages for the browser flow). */
  | { scope: IpScope; answer: 'json' | 'page' }
  /** After the handler: a failed client authentication (401 invalid_client) counts against the address. */
  | { scope: ClientScope; countFailures: true };

export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  if ('countFailures' in options) {
    const failureScope = `${options.scope}-auth-failed`;
    return async function clientAuthFailureLimit(c, next) {
      await next();
      const err = c.error;
      if (!(err instanceof OAuthError) || err.code !== 'invalid_client') return;
      if (await withinLimit(c, 'IP_RATE_LIMITER', `${failureScope}:${address(c)}`)) return;
      // A client retrying a wrong secret in a loop is told to back off; the failure is still counted in D1.
      const requestId = c.get('requestId');
      c.res = undefined; // Hono would otherwise copy the 401's headers (its Basic challenge) onto the 429
      c.res = tooManyError('network address').toResponse();
      if (requestId) c.res.headers.set('X-Request-Id', requestId);
    };
  }
  const { scope, answer } = options;
  return async function ipRateLimit(c, next) {
    if (await withinLimit(c, 'IP_RATE_LIMITER', `${scope}:${address(c)}`)) return next();
    return answer === 'page' ? tooManyPage(c) : tooManyError('network address').toResponse();
  };
}

/**
 * Counts one request of an authenticated client at `scope` (token, introspection, revocation each have their own
 * count); throws the 429 OAuthError when it is over. Called by the route right after `authenticateClient`.
 */
export async function limitClient(c: Ctx, caller: AuthenticatedClient, scope: ClientScope): Promise<void> {
  const key = caller.authenticated ? `${scope}:${caller.client.id}` : `${scope}:${caller.client.id}@${address(c)}`; // a public client's id is no proof: partitioned by address
  if (!(await withinLimit(c, 'TOKEN_RATE_LIMITER', key))) throw tooManyError('client');
}
