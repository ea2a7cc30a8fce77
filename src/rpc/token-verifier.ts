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
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
  resourceMetadataUrl,
} from '../../packages/resource-server/src/metadata.js';
import { getConfig } from '../config';
import {
  type CallerRequestOptions,
  type CallerResult,
  type CallerVerifyOptions,
  type RequestLike,
  verifyForCaller,
  verifyRequestForCaller,
} from './verify-for-caller';

/** The builder's options, less those this server fills in, and less `extra` (an RPC type must be cloneable). */
export type MetadataOptions = Partial<Omit<ProtectedResourceMetadataOptions, 'authorizationServers' | 'extra'>>;

/** RFC 9728 §2 members the builder sets: strings and string arrays only, so Workers RPC's types keep them. */
export type MetadataDocument = Pick<
  ProtectedResourceMetadata,
  'resource' | 'authorization_servers' | 'bearer_methods_supported'
> &
  Record<string, string | string[]>;

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
  metadata(options: MetadataOptions = {}): { url: string; document: MetadataDocument } {
    const config = getConfig(this.env);
    const resource = options.resource ?? config.audience;
    const { extra: _ignored, ...named } = options as ProtectedResourceMetadataOptions;
    return {
      url: resourceMetadataUrl(resource),
      document: protectedResourceMetadata({
        ...named,
        resource,
        authorizationServers: [config.issuer],
      }) as MetadataDocument,
    };
  }

  /** Not an HTTP surface: `env.AUTH.fetch()` finds nothing. */
  fetch(): Response {
    return new Response(null, { status: 404 });
  }
}
