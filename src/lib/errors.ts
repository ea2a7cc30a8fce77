/**
 * One error type for the whole server, rendered in one place (src/index.ts `onError`).
 * The code is a union of the registered values, so a non-standard code does not compile.
 */

/** RFC 6749 §5.2 (token endpoint), §4.1.2.1 (authorization endpoint), RFC 6750 §3.1 (resources), RFC 7591 §3.2.2, RFC 8707 §2. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unsupported_token_type'
  /** RFC 8707 §2: the `resource` is unknown, not allowed for the client, or malformed. */
  | 'invalid_target'
  // OpenID Connect Core §3.1.2.6 (authorization error responses).
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported';

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unsupported_token_type: 400,
  invalid_target: 400,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
};

export interface OAuthErrorOptions {
  status?: number;
  headers?: Record<string, string>;
  /** Internal reason for the log; never sent on the wire. */
  reason?: string;
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly reason?: string;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.headers = options.headers ?? {};
    this.reason = options.reason;
  }

  /** RFC 6749 §5.2 JSON body; errors are never cached (§5.1 applies to them too). */
  toResponse(): Response {
    const headers = new Headers(this.headers);
    headers.set('Content-Type', 'application/json;charset=UTF-8');
    headers.set('Cache-Control', 'no-store');
    headers.set('Pragma', 'no-cache');
    return new Response(JSON.stringify({ error: this.code, error_description: this.description }), {
      status: this.status,
      headers,
    });
  }
}

/**
 * RFC 6750 §3: errors on protected resources carry a `WWW-Authenticate: Bearer` challenge.
 * A request with no token at all gets the bare challenge with no error code (§3.1).
 */
export function bearerError(
  code: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | null,
  description: string,
  options: { realm?: string; scope?: string; reason?: string } = {},
): OAuthError {
  const params = [`realm="${options.realm ?? 'api'}"`];
  if (code) {
    params.push(`error="${code}"`, `error_description="${description.replace(/["\\]/g, '')}"`);
  }
  if (options.scope) params.push(`scope="${options.scope}"`);
  const status = code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : 401;
  return new OAuthError(code ?? 'invalid_token', description, {
    status,
    headers: { 'WWW-Authenticate': `Bearer ${params.join(', ')}` },
    reason: options.reason,
  });
}

/**
 * For `.catch()` where a refused credential simply means "nothing to act on" (revocation §2.2, introspection
 * `active: false`): an OAuthError becomes null, anything else (a storage failure) still propagates.
 */
export function refusedAsNull(err: unknown): null {
  if (err instanceof OAuthError) return null;
  throw err;
}
