/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, RFC 7521 §4.2, OIDC Core §9): the client sends
 * `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a `client_assertion` JWT signed
 * with one of its registered keys. Verified with jose, then the claim rules of src/oauth/client-assertion.ts, then
 * the jti is spent in D1 (src/storage/assertion-jtis.ts), last, so nothing unverified fills the replay record.
 *
 * Errors (docs/client-authentication.md): before the signature verifies, one sentence whatever failed (unknown
 * client, a client of another method, a key not in the set, a bad signature), so the answer does not tell an
 * attacker which ids exist or which method they use; after it verified, the exact claim rule, which only the key
 * holder can reach. RFC 6749 §5.2: 400, no challenge (the client did not use the Authorization header, and RFC 9110
 * §15.5.2 allows no 401 without one).
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { clock, nowSeconds } from '../lib/clock';
import { OAuthError } from '../lib/errors';
import { CLOCK_TOLERANCE } from '../oauth/access-token-claims';
import {
  type AssertionAudience,
  CLIENT_ASSERTION_ALGS,
  type ClaimProblem,
  checkAssertionClaims,
  MAX_ASSERTION_LENGTH,
} from '../oauth/client-assertion';
import { recordAssertionUse } from '../storage/assertion-jtis';
import { audit } from '../storage/audit';
import { authMethodOf, type Client } from '../storage/clients';
import { clientKeySet, KeySetUnavailable } from './client-key-sets';
import { ClientDocumentUnusable, resolveClient } from './resolve-client';

const GENERIC =
  "Client authentication failed: unknown client, or the client_assertion does not verify with the client's " +
  'registered keys.';

const CLAIM_SENTENCES: Record<ClaimProblem, string> = {
  iss_sub: 'The client_assertion\'s "iss" and "sub" must both be the client_id.',
  audience: 'The client_assertion\'s "aud" must be this server\'s issuer identifier (or its token endpoint URL).',
  exp_missing: 'The client_assertion must carry "exp".',
  expired: 'The client_assertion has expired; sign a new one for every request.',
  not_yet_valid: 'The client_assertion is not valid yet ("nbf" or "iat" is in the future).',
  too_long_lived: 'The client_assertion lives too long: "exp" may be at most 5 minutes after "iat".',
  jti_missing: 'The client_assertion must carry a unique "jti" (at most 256 characters).',
};

function refused(description: string, reason: string): OAuthError {
  return new OAuthError('invalid_client', description, { status: 400, reason });
}

async function fail(env: Env, id: string, description: string, reason: string, known: boolean): Promise<never> {
  // Audit trail (issue 5): who failed and why, never the assertion. No throttle: there is no secret to guess.
  await audit(env.DB, 'client_auth_failed', {
    subject: id.slice(0, 128),
    detail: { method: 'private_key_jwt', known, reason },
  });
  throw refused(description, `client ${id.slice(0, 128)}: ${reason}`);
}

/**
 * Authenticates a client by its assertion. `postId` is the optional client_id of the body (RFC 7521 §4.2: when
 * sent, it must name the assertion's client). Returns the client; throws invalid_client otherwise.
 */
export async function authenticateWithAssertion(
  env: Env,
  assertion: string,
  postId: string | undefined,
  audience: AssertionAudience,
): Promise<Client> {
  if (assertion.length > MAX_ASSERTION_LENGTH) throw refused(GENERIC, 'assertion too long');
  let iss: unknown;
  let alg: unknown;
  try {
    iss = decodeJwt(assertion).iss;
    alg = decodeProtectedHeader(assertion).alg;
  } catch {
    throw refused('The client_assertion is not a signed JWT (RFC 7523 §2.2).', 'assertion not a JWT');
  }
  if (typeof alg !== 'string' || !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(alg))
    throw refused(
      `The client_assertion must be signed with one of ${CLIENT_ASSERTION_ALGS.join(', ')}.`,
      `alg ${String(alg).slice(0, 20)}`,
    );
  const id = postId ?? (typeof iss === 'string' ? iss : '');
  if (!id) throw refused('The client_assertion\'s "iss" must be the client_id.', 'no iss');
  if (postId !== undefined && iss !== postId)
    throw refused('The client_id in the body differs from the client_assertion\'s "iss".', 'client_id ≠ iss');

  // Registered clients and Client ID Metadata Document clients alike (issue 13: a document's jwks or jwks_uri).
  let client: Client | null;
  try {
    client = await resolveClient(env, id);
  } catch (err) {
    if (!(err instanceof ClientDocumentUnusable)) throw err;
    return fail(env, id, err.reason, 'client document unusable', false);
  }
  const usable = client && client.status === 'active' && authMethodOf(client) === 'private_key_jwt' ? client : null;
  const keys = usable ? clientKeySet(usable) : null;
  if (!usable || !keys) return fail(env, id, GENERIC, usable ? 'no keys' : 'unknown or not private_key_jwt', false);

  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: [...CLIENT_ASSERTION_ALGS],
      clockTolerance: CLOCK_TOLERANCE,
      currentDate: new Date(clock.now()),
    }));
  } catch (err) {
    if (err instanceof KeySetUnavailable)
      return fail(
        env,
        id,
        `The client's jwks_uri could not be used (${err.reason}); its keys are needed to verify the client_assertion.`,
        err.message,
        true,
      );
    // Time claims are checked below with a sentence each; jose checks them only once the signature verified.
    if (err instanceof errors.JWTExpired) return fail(env, id, CLAIM_SENTENCES.expired, 'expired', true);
    if (err instanceof errors.JWTClaimValidationFailed)
      return fail(env, id, CLAIM_SENTENCES.not_yet_valid, `claim ${err.claim}`, true);
    return fail(env, id, GENERIC, `signature: ${(err as Error).name}`, true);
  }
  const now = nowSeconds();
  const problem = checkAssertionClaims(payload, id, audience, now);
  if (problem) return fail(env, id, CLAIM_SENTENCES[problem], problem, true);
  // RFC 7523 §3 item 7: single use, kept until the last moment the assertion could be accepted.
  const first = await recordAssertionUse(env.DB, id, payload.jti!, payload.exp! + CLOCK_TOLERANCE, now);
  if (!first)
    return fail(
      env,
      id,
      'This client_assertion was already used; sign a new one with a fresh "jti" for every request.',
      'jti replay',
      true,
    );
  return usable;
}
