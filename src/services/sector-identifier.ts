/**
 * OpenID Connect Core §8.1 / Dynamic Registration §5: a pairwise client's sector_identifier_uri must serve a JSON
 * array holding every redirect URI the client registers; fetched at registration (and change) through the
 * SSRF-safe fetcher. A failed fetch is a clear invalid_client_metadata, never a 500.
 */
import { OAuthError } from '../lib/errors';
import { ClientDocumentError, fetchClientDocument } from '../lib/safe-fetch';
import type { ValidatedClientMetadata } from '../oauth/client-metadata';

export async function checkSectorIdentifier(m: Pick<ValidatedClientMetadata, 'oidc' | 'redirectUris'>): Promise<void> {
  const uri = m.oidc.sector_identifier_uri;
  if (!uri) return;
  let json: unknown;
  try {
    ({ json } = await fetchClientDocument(uri, { maxBytes: 16 * 1024, timeoutMs: 5000 }));
  } catch (err) {
    if (!(err instanceof ClientDocumentError)) throw err;
    throw new OAuthError('invalid_client_metadata', `The sector_identifier_uri could not be used: ${err.message}`);
  }
  if (!Array.isArray(json) || json.some((u) => typeof u !== 'string'))
    throw new OAuthError('invalid_client_metadata', 'The sector_identifier_uri must serve a JSON array of URLs.');
  const missing = m.redirectUris.filter((u) => !(json as string[]).includes(u));
  if (missing.length > 0)
    throw new OAuthError(
      'invalid_client_metadata',
      `The sector_identifier_uri document does not list the redirect URI "${missing[0].slice(0, 200)}".`,
    );
}
