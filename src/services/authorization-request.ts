/**
 * Validation of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9700 §2.1.1, §4.1.3),
 * in the order RFC 6749 §4.1.2.1 requires: first the client and redirect URI — a failure there is shown to
 * the user and never redirected, so the endpoint cannot be used as an open redirector — then everything
 * else, whose failures are sent back to the client with `error`, `state` and `iss` (RFC 9207). Those are
 * only sent once a user is signed in (RFC 9700 §4.11.2): src/routes/authorize.ts decides that.
 */

import { getConfig } from '../config';
import type { OAuthErrorCode } from '../lib/errors';
import { OAuthError } from '../lib/errors';
import { addRepeated, allValues, isRepeatable } from '../oauth/form';
import { claimsRequestScopes } from '../oauth/oidc-claims';
import { OIDC_PARAMS, type OidcRequest, parseOidcRequest } from '../oauth/oidc-request';
import { isValidS256Challenge } from '../oauth/pkce';
import { findRedirectUri } from '../oauth/redirect-uri';
import type { ResourceServer } from '../oauth/resource-target';
import { formatList } from '../oauth/resource-target';
import { OIDC_SCOPES } from '../oauth/scopes';
import type { Client } from '../storage/clients';
import { ClientDocumentUnusable, resolveClient } from './resolve-client';
import { resolveTarget } from './resource-target';

/** The parameters of an authorization request that the consent form carries through unchanged. */
export const REQUEST_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const; // and every `resource` (RFC 8707 §2), carried by carriedParams
const MAX_STATE_LENGTH = 1024;

export interface AuthorizationRequest {
  client: Client;
  /** Where the answer goes: the presented URI (its loopback port may differ from the registered one). */
  redirectUri: string;
  redirectUriSent: boolean;
  /** /v1 scopes and, with `resource`, the scopes of the resource servers named (issue 13). */
  scopes: string[];
  scope: string;
  /** RFC 8707 §2: the resources the token will be for; /v1 alone when the request names none. */
  resources: ResourceServer[];
  /** True when the request named at least one `resource`. */
  resourcesNamed: boolean;
  state: string | null;
  codeChallenge: string | null;
  /** OpenID Connect parameters (Core §3.1.2.1); `openid` says whether the scope asks for an ID token. */
  oidc: OidcRequest;
  openid: boolean;
  /** The request's own parameters (repeated `resource` included), to carry through the login and consent forms. */
  params: [string, string][];
}

export type AuthorizationOutcome =
  | { kind: 'ok'; request: AuthorizationRequest }
  /** Shown as a page; never a redirect (unknown client, bad redirect URI). */
  | { kind: 'page'; title: string; detail: string }
  /**
   * Sent back to the client's redirect URI, but only to a signed-in user: a client anyone can register must
   * not turn our domain into a redirector for signed-out visitors (RFC 9700 §4.11.2).
   */
  | { kind: 'redirect'; location: string; client: Client; redirectUri: string; params: [string, string][] };

/**
 * The redirect back to the client (RFC 6749 §4.1.2): the redirect URI's own query is kept and the answer
 * appended; `iss` tells the client which server answered (RFC 9207 §2), against mix-up attacks.
 */
export function redirectTo(redirectUri: string, values: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) q.set(k, v);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${q.toString()}`;
}

/** An error response to the client (RFC 6749 §4.1.2.1). */
export function errorRedirect(
  redirectUri: string,
  issuer: string,
  state: string | null,
  error: OAuthErrorCode,
  description: string,
): string {
  return redirectTo(redirectUri, { error, error_description: description, state, iss: issuer });
}

/**
 * Reads the parameters from a query string or a form body. Repeated parameters are an error (RFC 6749 §3.1);
 * empty values count as absent.
 */
export function collectParams(entries: Iterable<[string, string]>): {
  params: Map<string, string>;
  repeated: Set<string>;
} {
  const params = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [k, v] of entries) {
    if (v === '') continue;
    if (isRepeatable(k))
      addRepeated(params, k, v); // RFC 8707 §2: `resource` may be repeated
    else if (params.has(k)) repeated.add(k);
    else params.set(k, v);
  }
  return { params, repeated };
}

/** The request parameters the login and consent forms carry through (REQUEST_PARAMS, first values). */
function carriedParams(params: Map<string, string>): [string, string][] {
  const carried: [string, string][] = [];
  for (const name of [...REQUEST_PARAMS, ...OIDC_PARAMS]) {
    const value = params.get(name);
    if (value !== undefined) carried.push([name, value]);
  }
  for (const value of allValues(params, 'resource')) carried.push(['resource', value]);
  return carried;
}

/**
 * Validates an authorization request: a page for client and redirect-URI problems (and a state too long to
 * echo), an error redirect for the rest, or the request to show consent for.
 */
export async function validateAuthorizationRequest(
  env: Env,
  issuer: string,
  params: Map<string, string>,
  repeated: Set<string>,
): Promise<AuthorizationOutcome> {
  // 1. Client and redirect URI: failures are shown, never redirected.
  const clientId = params.get('client_id');
  if (repeated.has('client_id') || repeated.has('redirect_uri')) {
    return {
      kind: 'page',
      title: 'Invalid request',
      detail:
        'The link that brought you here names the application or its return address twice. Contact the application’s developer.',
    };
  }
  if (!clientId) {
    return {
      kind: 'page',
      title: 'Unknown application',
      detail: 'The link that brought you here does not say which application is asking (client_id is missing).',
    };
  }
  let client: Client | null;
  try {
    client = await resolveClient(env, clientId);
  } catch (err) {
    // Issue 13: a Client ID Metadata Document that cannot be fetched or used is named as such, never "unknown".
    if (!(err instanceof ClientDocumentUnusable)) throw err;
    return {
      kind: 'page',
      title: 'This application’s information could not be used',
      detail: `${err.reason} Nothing was sent to the application; contact its developer.`,
    };
  }
  if (client?.status !== 'active') {
    return {
      kind: 'page',
      title: 'Unknown application',
      detail:
        'The application that sent you here is not registered with this server, or has been disabled. Contact its developer.',
    };
  }
  const presented = params.get('redirect_uri');
  let redirectUri: string;
  if (presented !== undefined) {
    // RFC 9700 §4.1.3: exact string match against a registered URI (the loopback port excepted).
    if (!findRedirectUri(client.redirectUris, presented)) {
      return {
        kind: 'page',
        title: 'Wrong return address',
        detail: `“${client.name}” asked to send you back to an address it has not registered. For your safety you were not sent there. Contact the application’s developer.`,
      };
    }
    redirectUri = presented;
  } else if (client.redirectUris.length === 1) {
    redirectUri = client.redirectUris[0]; // RFC 6749 §3.1.2.3: optional when exactly one is registered
  } else {
    return {
      kind: 'page',
      title: 'Missing return address',
      detail: `“${client.name}” did not say where to send you back (redirect_uri is missing), and it has several addresses registered.`,
    };
  }

  // An error response must carry the state unchanged (RFC 6749 §4.1.2.1); one too long to carry is shown.
  const state = params.get('state') ?? null;
  if (state !== null && state.length > MAX_STATE_LENGTH) {
    const detail =
      `“${client.name}” sent a state parameter longer than ${MAX_STATE_LENGTH} characters, ` +
      'so this request cannot be answered; contact the application’s developer.';
    return { kind: 'page', title: 'Invalid request', detail };
  }
  const carried = carriedParams(params);

  // 2. Everything else is answered at the redirect URI.
  const fail = (error: OAuthErrorCode, description: string): AuthorizationOutcome => ({
    kind: 'redirect',
    location: errorRedirect(redirectUri, issuer, state, error, description),
    client,
    redirectUri,
    params: carried,
  });
  if (repeated.size > 0)
    return fail('invalid_request', `The parameter "${[...repeated][0].slice(0, 40)}" is repeated.`);
  const responseType = params.get('response_type');
  if (!responseType)
    return fail('invalid_request', 'The "response_type" parameter is required; use response_type=code.');
  if (responseType !== 'code') {
    // RFC 9700 §2.1.2: the implicit grant (response_type=token) is not offered.
    return fail(
      'unsupported_response_type',
      'Only response_type=code is supported (the implicit flow is not offered).',
    );
  }
  if (!client.grantTypes.includes('authorization_code'))
    return fail('unauthorized_client', 'This client is not allowed to use the authorization code flow.');
  // RFC 8707 §2: an unknown, disallowed or malformed resource is invalid_target; scopes are per resource server.
  const resourceValues = allValues(params, 'resource');
  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    target = await resolveTarget(env.DB, getConfig(env), client, resourceValues, params.get('scope'), OIDC_SCOPES);
    // The OpenID Connect scopes are the user's identity, open to every client of the code flow (src/oauth/scopes.ts).
  } catch (err) {
    if (err instanceof OAuthError)
      return fail(err.code === 'invalid_target' ? 'invalid_target' : 'invalid_scope', err.description);
    throw err;
  }
  let scopes = target.scopes;
  const challenge = params.get('code_challenge') ?? null;
  const method = params.get('code_challenge_method');
  if (method !== undefined && method !== 'S256') {
    return fail(
      'invalid_request',
      'Only code_challenge_method=S256 is supported; "plain" is refused (RFC 9700 §2.1.1).',
    );
  }
  if (challenge !== null) {
    // RFC 7636 §4.3: without a method the challenge would be "plain", which is refused.
    if (method === undefined)
      return fail('invalid_request', 'Send code_challenge_method=S256 with the code_challenge.');
    if (!isValidS256Challenge(challenge))
      return fail(
        'invalid_request',
        'The code_challenge must be 43 base64url characters (the S256 hash of the verifier).',
      );
  } else if (method !== undefined) {
    return fail('invalid_request', 'A code_challenge_method was sent without a code_challenge.');
  } else if (!client.confidential || client.requirePkce) {
    return fail('invalid_request', 'PKCE is required: send code_challenge and code_challenge_method=S256 (RFC 7636).');
  }
  const oidc = parseOidcRequest(params);
  if (Array.isArray(oidc)) return fail(oidc[0], oidc[1]);
  // Core §5.5: a claims request for a profile or email claim asks for that scope's claims: the scope is added, so the
  // consent page names it and the user decides (docs/openid-connect.md).
  if (scopes.includes('openid')) {
    for (const s of claimsRequestScopes(oidc.claims)) if (!scopes.includes(s)) scopes = [...scopes, s];
    scopes = formatList(scopes);
  }
  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      redirectUriSent: presented !== undefined,
      scopes,
      scope: scopes.join(' '),
      resources: target.resources,
      resourcesNamed: resourceValues.length > 0,
      state,
      codeChallenge: challenge,
      oidc,
      openid: scopes.includes('openid'),
      params: carried,
    },
  };
}

/** A CSP `form-action` source for a redirect URI, so the browser follows the final redirect to the client. */
export function formActionSource(redirectUri: string): string | null {
  try {
    const url = new URL(redirectUri);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
    const scheme = url.protocol;
    return /^[a-z][a-z0-9+.-]*:$/.test(scheme) ? scheme : null;
  } catch {
    return null;
  }
}
