/**
 * Operator-chosen credentials for POST /admin/clients (issue 11): `client_id` and `client_secret` may be given
 * instead of generated, so `npm start` can seed its demo client through the admin API with the same credentials
 * on every run, and an operator can move a partner from the old server without changing its configuration.
 * Pure rules, no I/O. Never offered by dynamic registration (RFC 7591 §3.2.1: the server issues the identifier).
 */
import { OAuthError } from '../lib/errors';

/**
 * RFC 6749 §A.1 allows any visible ASCII; we take the URI-unreserved subset (RFC 3986 §2.3) so the id is the same
 * in a URL path, in HTTP Basic (no ":", RFC 6749 §2.3.1 form-encoding changes nothing) and in logs.
 */
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
/** At least 32 characters (a 43-character base64url secret of 256 random bits is what we generate). */
const CLIENT_SECRET = /^[A-Za-z0-9._~-]{32,256}$/;

const bad = (description: string) => new OAuthError('invalid_client_metadata', description);

/** Validates the optional fixed `client_id`/`client_secret` of an admin create request. */
export function fixedCredentials(
  body: Record<string, unknown>,
  confidential: boolean,
): { id?: string; secret?: string } {
  const { client_id: id, client_secret: secret } = body;
  if (id !== undefined && (typeof id !== 'string' || !CLIENT_ID.test(id))) {
    throw bad(
      '"client_id" must be 3 to 128 letters, digits or the characters . _ ~ - (omit it to have one generated).',
    );
  }
  if (secret !== undefined) {
    if (!confidential)
      throw bad(
        'A public client (token_endpoint_auth_method "none") has no secret, so "client_secret" cannot be given.',
      );
    if (typeof secret !== 'string' || !CLIENT_SECRET.test(secret)) {
      throw bad(
        '"client_secret" must be 32 to 256 letters, digits or the characters . _ ~ - (omit it to have one generated).',
      );
    }
  }
  return { ...(id !== undefined ? { id } : {}), ...(secret !== undefined ? { secret: secret as string } : {}) };
}
