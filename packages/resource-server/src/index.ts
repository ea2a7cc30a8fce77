/**
 * @edge-oauth/resource-server: verify the edge-oauth authorization server's access tokens in any JavaScript
 * runtime, answer RFC 6750 challenges, and publish RFC 9728 protected resource metadata.
 * The Hono middleware is in `@edge-oauth/resource-server/hono`.
 */

export { authorizationServerMetadataUrl, type FetchLike } from './key-source.js';
export {
  PROTECTED_RESOURCE_WELL_KNOWN,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
  serveProtectedResourceMetadata,
} from './metadata.js';
export { bearerChallenge, type Refusal, type RefusalCode, refusalResponse } from './refusal.js';
export { type TokenSource, tokenFromRequest } from './token-source.js';
export {
  type AccessTokenClaims,
  createVerifier,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE,
  MAX_TOKEN_LENGTH,
  ResourceServerUnavailableError,
  type Verified,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
  type VerifyRequestOptions,
  type VerifyResult,
} from './verifier.js';
