/**
 * @edge-oauth/resource-server: verify the edge-oauth authorization server's access tokens in any JavaScript
 * runtime, answer RFC 6750 challenges, and publish RFC 9728 protected resource metadata.
 * The Hono middleware is in `@edge-oauth/resource-server/hono`.
 */
export {
  createVerifier,
  ResourceServerUnavailableError,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE,
  MAX_TOKEN_LENGTH,
  type AccessTokenClaims,
  type Verified,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
  type VerifyRequestOptions,
  type VerifyResult,
} from './verifier.js';
export { bearerChallenge, refusalResponse, type Refusal, type RefusalCode } from './refusal.js';
export { tokenFromRequest, type TokenSource } from './token-source.js';
export { authorizationServerMetadataUrl, type FetchLike } from './key-source.js';
export {
  PROTECTED_RESOURCE_WELL_KNOWN,
  protectedResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
  serveProtectedResourceMetadata,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from './metadata.js';
