/**
 * The one seam where a client_id becomes a Client (issue 13): a registered id is read from the registry
 * (src/storage/clients.ts getClient); an https URL is a Client ID Metadata Document, fetched with the SSRF-safe fetcher
 * (src/lib/safe-fetch.ts), validated (src/oauth/client-id-document.ts) and cached in KV.
 *
 * Callers: the authorization request (src/services/authorization-request.ts: a failure is an error page naming the
 * problem, never "unknown application" and never a redirect) and client authentication (src/services/client-auth.ts:
 * `invalid_client` with the reason).
 *
 * Cache (draft-ietf-oauth-client-id-metadata-document-03 "Metadata Caching": the server may cache, honouring HTTP
 * caching): the document's `Cache-Control: max-age`, clamped to [5 min, 24 h] (1 h when it says nothing), so a
 * popular agent costs one fetch a few times a day, and a change or a withdrawal is seen within a day at worst. A failed
 * fetch or an invalid document is cached only for a minute (KV's shortest lifetime), so a fixed document is used
 * almost at once and a broken one does not turn every request into an outbound fetch.
 */
import { nowSeconds } from '../lib/clock';
import { sha256 } from '../lib/random';
import { ClientDocumentError, fetchClientDocument } from '../lib/safe-fetch';
import type { Client } from '../oauth/client';
import {
  ClientIdDocumentInvalid,
  clientFromDocument,
  isClientIdDocumentUrl,
  refusedClientIdUrl,
} from '../oauth/client-id-document';
import { cacheWarning } from '../storage/cache-warning';
import { getClient } from '../storage/clients';

/** draft "Security Considerations": a small cap on the document; 5 KB is ample for client metadata. */
export const DOCUMENT_MAX_BYTES = 5 * 1024;
/** A slow host must not hold the user's sign-in (or a token request) for long. */
export const DOCUMENT_TIMEOUT_MS = 3000;
export const CACHE_FLOOR_SECONDS = 300;
export const CACHE_CEILING_SECONDS = 86_400;
export const CACHE_DEFAULT_SECONDS = 3600;
export const FAILURE_CACHE_SECONDS = 60;

/** Why a client's metadata document cannot be used: a sentence for an error page or an error_description. */
export class ClientDocumentUnusable extends Error {
  constructor(
    readonly clientId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ClientDocumentUnusable';
  }
}

type CacheEntry = { client: Client } | { failure: string };

const cacheKey = async (url: string) => `cimd:${await sha256(url)}`;

/** The cache lifetime for a document: max-age clamped to the floor and ceiling. */
export function documentCacheSeconds(maxAge: number | null): number {
  if (maxAge === null) return CACHE_DEFAULT_SECONDS;
  return Math.min(CACHE_CEILING_SECONDS, Math.max(CACHE_FLOOR_SECONDS, maxAge));
}

/**
 * The client `clientId` names: registered (null when unknown) or described by its metadata document (throws
 * ClientDocumentUnusable when that cannot be fetched or is invalid).
 */
export async function resolveClient(env: Env, clientId: string): Promise<Client | null> {
  if (!isClientIdDocumentUrl(clientId)) return getClient(env.DB, env.CACHE, clientId);
  const refused = refusedClientIdUrl(clientId);
  if (refused) throw new ClientDocumentUnusable(clientId, `${capitalise(refused)}.`);
  const key = await cacheKey(clientId);
  // KV is only a cache (issue 16, docs/reliability.md): unreadable, the document is fetched as on a miss; unwritable,
  // the answer stands and the next request fetches again (the per-IP rate limit bounds how often).
  const cached = await env.CACHE.get<CacheEntry>(key, { type: 'json', cacheTtl: 60 }).catch((err: unknown) =>
    cacheWarning('client_document_cache_read_failed', err),
  );
  if (cached) {
    if ('failure' in cached) throw new ClientDocumentUnusable(clientId, cached.failure);
    return cached.client;
  }
  let entry: CacheEntry;
  let ttl: number;
  try {
    const doc = await fetchClientDocument(clientId, { maxBytes: DOCUMENT_MAX_BYTES, timeoutMs: DOCUMENT_TIMEOUT_MS });
    entry = { client: clientFromDocument(clientId, doc.json, nowSeconds()) };
    ttl = documentCacheSeconds(doc.maxAgeSeconds);
  } catch (err) {
    if (err instanceof ClientDocumentError) entry = { failure: err.reason };
    else if (err instanceof ClientIdDocumentInvalid) {
      entry = { failure: `The application’s metadata document at ${clientId} cannot be used: ${err.reason}.` };
    } else throw err;
    ttl = FAILURE_CACHE_SECONDS;
    console.log(
      JSON.stringify({
        level: 'info',
        event: 'client_document_refused',
        clientId: clientId.slice(0, 200),
        reason: entry.failure.slice(0, 300),
      }),
    );
  }
  await env.CACHE.put(key, JSON.stringify(entry), { expirationTtl: ttl }).catch((err: unknown) =>
    cacheWarning('client_document_cache_write_failed', err),
  );
  if ('failure' in entry) throw new ClientDocumentUnusable(clientId, entry.failure);
  return entry.client;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
