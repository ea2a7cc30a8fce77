/**
 * The OpenID Connect parameters of an authorization request (Core §3.1.2.1, §5.5), parsed with no I/O. Failures are
 * `[code, description]` pairs that src/services/authorization-request.ts sends back to the redirect URI.
 */
import type { OAuthErrorCode } from '../lib/errors';

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';
const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];

/** Core §5.5: the claims request, `{ userinfo?: {...}, id_token?: {...} }`, each member null or `{ essential, value(s) }`. */
export interface ClaimsRequest {
  userinfo?: Record<string, unknown>;
  id_token?: Record<string, unknown>;
}

export interface OidcRequest {
  nonce: string | null;
  prompt: Set<Prompt>;
  /** Seconds; Core §3.1.2.1 max_age (0 means: authenticate now). */
  maxAge: number | null;
  loginHint: string | null;
  idTokenHint: string | null;
  claims: ClaimsRequest | null;
  /** Internal, set by this server when it sends the user to sign in again: the session must be this recent. */
  authAfter: number | null;
}

/** Parameters the login and consent forms carry through, besides RFC 6749's (REQUEST_PARAMS). */
export const OIDC_PARAMS = [
  'nonce',
  'prompt',
  'max_age',
  'login_hint',
  'id_token_hint',
  'claims',
  'display',
  'ui_locales',
  'claims_locales',
  'acr_values',
  'auth_after',
] as const;

const MAX_NONCE = 512;
const MAX_CLAIMS = 4096;
const MAX_HINT = 8192;

type Failure = [OAuthErrorCode, string];

/** Parses the OIDC parameters; returns the request or the error to redirect. */
export function parseOidcRequest(params: Map<string, string>): OidcRequest | Failure {
  // Core §6.1 / §6.2: request objects are not supported (discovery says request_parameter_supported: false).
  if (params.has('request'))
    return [
      'request_not_supported',
      'Request objects (the "request" parameter) are not supported; send plain parameters.',
    ];
  if (params.has('request_uri'))
    return ['request_uri_not_supported', 'The "request_uri" parameter is not supported; send plain parameters.'];
  const nonce = params.get('nonce') ?? null;
  if (nonce !== null && nonce.length > MAX_NONCE)
    return ['invalid_request', `The nonce must be at most ${MAX_NONCE} characters.`];
  const prompt = new Set<Prompt>();
  for (const p of (params.get('prompt') ?? '').split(' ').filter(Boolean)) {
    if (!PROMPTS.includes(p)) return ['invalid_request', `The prompt value "${p.slice(0, 40)}" is unknown.`];
    prompt.add(p as Prompt);
  }
  // Core §3.1.2.1: "none" with any other value is an error.
  if (prompt.has('none') && prompt.size > 1)
    return ['invalid_request', 'prompt=none cannot be combined with other prompt values.'];
  let maxAge: number | null = null;
  const rawMaxAge = params.get('max_age');
  if (rawMaxAge !== undefined) {
    if (!/^\d{1,9}$/.test(rawMaxAge)) return ['invalid_request', 'max_age must be a whole number of seconds.'];
    maxAge = Number(rawMaxAge);
  }
  const idTokenHint = params.get('id_token_hint') ?? null;
  if (idTokenHint !== null && idTokenHint.length > MAX_HINT)
    return ['invalid_request', 'The id_token_hint is too long.'];
  let claims: ClaimsRequest | null = null;
  const rawClaims = params.get('claims');
  if (rawClaims !== undefined) {
    const parsed = parseClaims(rawClaims);
    if (!parsed) return ['invalid_request', 'The "claims" parameter must be a JSON object (OpenID Connect Core §5.5).'];
    claims = parsed;
  }
  const rawAfter = params.get('auth_after');
  const authAfter = rawAfter !== undefined && /^\d{1,12}$/.test(rawAfter) ? Number(rawAfter) : null;
  const loginHint = params.get('login_hint')?.slice(0, 256) ?? null;
  return { nonce, prompt, maxAge, loginHint, idTokenHint, claims, authAfter };
}

function parseClaims(raw: string): ClaimsRequest | null {
  if (raw.length > MAX_CLAIMS) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const out: ClaimsRequest = {};
  for (const where of ['userinfo', 'id_token'] as const) {
    const member = value[where];
    if (member === undefined) continue;
    if (!isObject(member)) return null;
    for (const v of Object.values(member)) if (v !== null && !isObject(v)) return null;
    out[where] = member;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
