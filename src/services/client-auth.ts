/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3.1):
 * `client_secret_basic` (with form-decoding of id and secret) or `client_secret_post`, never both, and only
 * the one the client registered (RFC 7591 §2 token_endpoint_auth_method); public clients identify themselves with
 * `client_id` alone.
 */
import { nowSeconds, sleeper } from '../lib/clock';
import { OAuthError } from '../lib/errors';
import { sha256 } from '../lib/random';
import { type AssertionAudience, JWT_BEARER_ASSERTION_TYPE } from '../oauth/client-assertion';
import type { Params } from '../oauth/form';
import { delayMs, lockRemaining } from '../oauth/throttle-policy';
import { audit } from '../storage/audit';
import { authMethodOf, type Client } from '../storage/clients';
import { clientThrottleKey, recordFailure } from '../storage/throttle';
import { authenticateWithAssertion } from './private-key-jwt';
import { ClientDocumentUnusable, resolveClient } from './resolve-client';

export interface BasicCredentials {
  id: string;
  secret: string;
}

/** Fatal: invalid UTF-8 throws. Stateless between calls (no `stream` option), so one instance serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="oauth", charset="UTF-8"' };

function invalidClient(description: string, extraHeaders: Record<string, string> = {}, reason?: string): OAuthError {
  return new OAuthError('invalid_client', description, {
    status: 401,
    headers: { ...BASIC_CHALLENGE, ...extraHeaders },
    reason,
  });
}

/** Parses `Authorization: Basic …`; returns null when the header is absent or another scheme. */
export function parseBasicAuth(header: string | null | undefined): BasicCredentials | null {
  if (!header) return null;
  const match = /^basic[ ]+([A-Za-z0-9+/=]*)[ ]*$/i.exec(header);
  if (!match) {
    if (/^basic(\s|$)/i.test(header)) throw invalidClient('The Basic authorization header is malformed.');
    return null;
  }
  let decoded: string;
  try {
    const bin = atob(match[1]);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    decoded = UTF8.decode(bytes);
  } catch {
    throw invalidClient('The Basic authorization header is not valid base64 of UTF-8 text.');
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) throw invalidClient('The Basic authorization header must hold "client_id:client_secret".');
  try {
    // RFC 6749 §2.3.1: id and secret are form-encoded before being joined by ":".
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient('The client credentials in the Basic authorization header are not properly form-encoded.');
  }
}

export interface AuthenticatedClient {
  client: Client;
  /** False for a public client that only named itself. */
  authenticated: boolean;
}

/** A hash no secret matches, compared against for unknown clients so both paths cost the same. */
const NO_MATCH_HASH = 'x'.repeat(43);

/**
 * Authenticates the caller. Throws invalid_request (two methods), invalid_client (unknown, disabled, wrong or
 * missing secret; 401 with a Basic challenge, plus Retry-After once the client is locked).
 */
export async function authenticateClient(
  env: Env,
  authorization: string | null | undefined,
  params: Params,
  audience: AssertionAudience,
): Promise<AuthenticatedClient> {
  const basic = parseBasicAuth(authorization);
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  const assertionType = params.get('client_assertion_type');
  const assertion = params.get('client_assertion');
  if (assertionType !== undefined || assertion !== undefined) {
    // RFC 6749 §2.3: one method per request; RFC 7521 §4.2: both parameters, the type being the JWT one (RFC 7523 §2.2).
    if (basic || postSecret !== undefined)
      throw new OAuthError(
        'invalid_request',
        'Use one client authentication method: a client_assertion, HTTP Basic or client_secret, not several.',
      );
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE || !assertion)
      throw new OAuthError(
        'invalid_request',
        `A client assertion needs client_assertion_type "${JWT_BEARER_ASSERTION_TYPE}" and a client_assertion.`,
      );
    return { client: await authenticateWithAssertion(env, assertion, postId, audience), authenticated: true };
  }
  if (basic && postSecret !== undefined) {
    throw new OAuthError(
      'invalid_request',
      'Use one client authentication method: either HTTP Basic or client_secret in the body, not both.',
    );
  }
  if (basic && postId !== undefined && postId !== basic.id) {
    throw new OAuthError(
      'invalid_request',
      'The client_id in the body differs from the one in the Authorization header.',
    );
  }
  const id = basic?.id ?? postId;
  if (!id) throw invalidClient('Client authentication is required: send client_id and client_secret with HTTP Basic.');
  const secret = basic?.secret ?? postSecret;

  let client: Client | null;
  try {
    client = await resolveClient(env, id);
  } catch (err) {
    // Issue 13: a client_id URL whose metadata document cannot be used (RFC 6749 §5.2 invalid_client, with why).
    if (err instanceof ClientDocumentUnusable)
      throw invalidClient(err.reason, {}, `client document ${id.slice(0, 200)}`);
    throw err;
  }
  const usable = client && client.status === 'active' ? client : null;

  // A private_key_jwt client has no secret: a secret sent for it fails below like a wrong secret (same answer, same
  // throttle), and so does a client_id sent alone.
  if (usable && !usable.confidential) {
    if (secret !== undefined) throw invalidClient('This client is public and has no secret; send client_id only.');
    return { client: usable, authenticated: false };
  }
  if (secret === undefined) {
    throw invalidClient('This client must authenticate: send client_id and client_secret with HTTP Basic.');
  }
  // Hash and compare even for unknown clients, so timing does not reveal which ids exist.
  const presented = await sha256(secret);
  const expected = usable?.secretHash ?? NO_MATCH_HASH;
  const enc = new TextEncoder();
  const a = enc.encode(presented);
  const b = enc.encode(expected.length === presented.length ? expected : NO_MATCH_HASH);
  const match = crypto.subtle.timingSafeEqual(a, b) && usable !== null;
  if (match && usable) {
    // RFC 7591 §2: the client registered one token_endpoint_auth_method; another one is refused. Checked only after
    // the secret matched, so the answer tells nobody without the secret which method (or which client) exists.
    const used = basic ? 'client_secret_basic' : 'client_secret_post';
    const registered = authMethodOf(usable);
    if (used !== registered) {
      throw invalidClient(
        registered === 'client_secret_basic'
          ? 'This client is registered for client_secret_basic; send its credentials with HTTP Basic, not in the body.'
          : 'This client is registered for client_secret_post; send client_id and client_secret in the body, ' +
              'not with HTTP Basic.',
        {},
        `client ${id} used ${used}, registered ${registered}`,
      );
    }
    return { client: usable, authenticated: true };
  }

  const state = await recordFailure(env.DB, clientThrottleKey(id), nowSeconds());
  const wait = delayMs(state.failures);
  const locked = lockRemaining(state, nowSeconds());
  // Audit trail (issue 5): who failed, never the presented secret.
  await Promise.all([
    wait > 0 ? sleeper.sleep(wait) : undefined,
    audit(env.DB, 'client_auth_failed', {
      subject: id.slice(0, 128),
      detail: { known: usable !== null, failures: state.failures, locked: locked > 0 },
    }),
  ]);
  if (locked > 0) {
    throw invalidClient(
      'Too many failed authentications for this client; try again later.',
      { 'Retry-After': String(locked) },
      `client ${id} locked`,
    );
  }
  throw invalidClient('Client authentication failed: unknown client or wrong secret.', {}, `client ${id} auth failed`);
}
