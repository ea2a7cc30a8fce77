/**
 * Refusals and their RFC 6750 §3 challenges. A refusal is a value, not an exception: the caller decides how to
 * answer, and `challenge` is the exact `WWW-Authenticate` value to send with `status`.
 */

/** RFC 6750 §3.1: the three error codes a resource server uses. */
export type RefusalCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface Refusal {
  ok: false;
  /**
   * The RFC 6750 §3.1 code. A request with no token at all is `invalid_token` here (so the JSON body has a code,
   * as the authorization server's own routes answer) but its challenge carries no `error` attribute (§3.1:
   * "the resource server SHOULD NOT include an error code").
   */
  error: RefusalCode;
  /** 400 for invalid_request, 401 for invalid_token, 403 for insufficient_scope (RFC 6750 §3.1). */
  status: 400 | 401 | 403;
  /** Human-readable, safe to send (`error_description`). */
  description: string;
  /** The full `WWW-Authenticate` header value, starting with `Bearer`. */
  challenge: string;
  /** True when the request carried no token at all. */
  missing: boolean;
  /** Why, for your logs only (e.g. jose's error code); never send it. */
  reason?: string;
}

const STATUS: Record<RefusalCode, 400 | 401 | 403> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
};

export interface ChallengeParams {
  realm?: string;
  /** The scope a token needs here (RFC 6750 §3: space-delimited). */
  scope?: string;
  /** RFC 9728 §5.1: the URL of this resource's metadata document. */
  resourceMetadata?: string;
}

/**
 * RFC 6750 §3 quoted-string values: the RFC restricts error_description and scope to printable ASCII without
 * `"` and `\` (§3: %x20-21 / %x23-5B / %x5D-7E), so anything else is dropped rather than escaped.
 */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
}

/** The `WWW-Authenticate: Bearer …` value; `code` null gives the bare challenge for a request with no token. */
export function bearerChallenge(code: RefusalCode | null, description: string, params: ChallengeParams = {}): string {
  const parts: string[] = [];
  if (params.realm) parts.push(`realm=${quoted(params.realm)}`);
  if (code) parts.push(`error="${code}"`, `error_description=${quoted(description)}`);
  if (params.scope) parts.push(`scope=${quoted(params.scope)}`);
  if (params.resourceMetadata) parts.push(`resource_metadata=${quoted(params.resourceMetadata)}`);
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}

export function refusal(
  code: RefusalCode,
  description: string,
  params: ChallengeParams & { missing?: boolean; reason?: string } = {},
): Refusal {
  const missing = params.missing ?? false;
  return {
    ok: false,
    error: code,
    status: STATUS[code],
    description,
    challenge: bearerChallenge(missing ? null : code, description, params),
    missing,
    ...(params.reason ? { reason: params.reason } : {}),
  };
}

/** RFC 6749 §5.2-shaped JSON response for a refusal, with the challenge and no caching (RFC 6750 §3). */
export function refusalResponse(r: Refusal): Response {
  return new Response(JSON.stringify({ error: r.error, error_description: r.description }), {
    status: r.status,
    headers: {
      'Content-Type': 'application/json;charset=UTF-8',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': r.challenge,
    },
  });
}
