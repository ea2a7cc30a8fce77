/**
 * The service-binding verifier (issue 14 part 1): a named Workers RPC entrypoint that another Worker on the account
 * binds to with
 *   [[services]]
 *   binding = "AUTH"
 *   service = "edge-oauth"
 *   entrypoint = "TokenVerifier"
 * and calls as `await env.AUTH.verify(token, { scopes: ['base'] })`. It runs beside D1, so the deny-list is read at
 * once on every call (no 30 s snapshot lag, unlike the JWKS-only library in packages/resource-server).
 * Only the methods below are callable: no fetch handler (the one here answers 404), nothing else of the Worker.
 */
import { WorkerEntrypoint } from 'cloudflare:workers';
import {
  protectedResourceMetadata,
  resourceMetadataUrl,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from '../../packages/resource-server/src/metadata.js';
import { getConfig } from '../config';
import {
  verifyForCaller,
  verifyRequestForCaller,
  type CallerRequestOptions,
  type CallerResult,
  type CallerVerifyOptions,
  type RequestLike,
} from './verify-for-caller';

export type { CallerRequestOptions, CallerResult, CallerVerifyOptions, RequestLike };

export class TokenVerifier extends WorkerEntrypoint<Env> {
  /** Verifies a token the caller took from its `Authorization: Bearer` header (RFC 6750 §2.1). */
  verify(token: string, options: CallerVerifyOptions): Promise<CallerResult> {
    return verifyForCaller(this.env, String(token ?? ''), options);
  }

  /** Finds the token in a request (a `Request`, or `{ authorization, url }`) with the product's RFC 6750 §2 rule, then verifies it. */
  verifyRequest(request: RequestLike, options: CallerRequestOptions): Promise<CallerResult> {
    return verifyRequestForCaller(this.env, request, options);
  }

  /**
   * The caller's RFC 9728 §2 metadata document, naming this server as its authorization server, and the URL to
   * serve it at (§3.1), which is also the `resource_metadata` of its challenges (§5.1). `resource` defaults to
   * the one audience every token carries today (issue 13 not built).
   */
  metadata(options: Partial<Omit<ProtectedResourceMetadataOptions, 'authorizationServers'>> = {}): { url: string; document: ProtectedResourceMetadata } {
    const config = getConfig(this.env);
    const resource = options.resource ?? config.audience;
    return {
      url: resourceMetadataUrl(resource),
      document: protectedResourceMetadata({ ...options, resource, authorizationServers: [config.issuer] }),
    };
  }

  /** Not an HTTP surface: `env.AUTH.fetch()` finds nothing. */
  fetch(): Response {
    return new Response(null, { status: 404 });
  }
}
