/**
 * Image bytes in the colo's edge cache (the Workers Cache API, `caches.default`), in front of R2 (issue 17).
 *
 * What is cached is the object, never an answer to a token: the entry is keyed by a synthetic URL made from the R2
 * object key alone (no token, no query), and carries what the route needs to decide on its own — ETag, upload time,
 * size, type and the ownership recorded in R2's customMetadata — so a hit costs no R2 call while the token, its
 * scope and the ownership rule (src/files/access.ts) are still decided on every request by the route.
 *
 * Freshness: a write or delete through this server purges the entry of the colo that made it before it answers
 * (`purgeImage`), so that colo never serves the old bytes. Other colos (the Cache API is per colo) keep their copy for
 * at most IMAGE_EDGE_CACHE_SECONDS: the entry is stored with `Cache-Control: max-age=<that>` (RFC 9111 §5.2.2.1),
 * after which the cache drops it and the next read goes to R2. 0 turns the cache off.
 *
 * The client never sees the entry's own headers: the route answers with `Cache-Control: private` and
 * `Referrer-Policy: no-referrer` on every response, hit or miss (RFC 6750 §2.3: no shared cache may keep a
 * token-authorized answer).
 */
import type { ObjectOwnership } from '../storage/files';

/** Headers of the cached entry that carry R2's metadata (never sent to a client: the route builds its own). */
const H_OWNER = 'X-Image-Owner';
const H_CLIENT = 'X-Image-Client';

/** What the route needs of a cached object to answer as it would from R2. */
export interface CachedImage {
  etag: string;
  httpEtag: string;
  uploaded: Date;
  size: number;
  contentType: string;
  ownership: ObjectOwnership | null;
  /** The (ranged, when a range was asked) body; cancel it when not sent. */
  body: ReadableStream;
  /** The byte range the cache served, from its Content-Range; null for the whole object. */
  served: { offset: number; length: number } | null;
}

/**
 * The entry's URL: the issuer's origin (so it lives in this deployment's zone), a path no route serves, and the object
 * key percent-encoded. Same key for every token: the bytes do not depend on who asks.
 */
export function cacheUrl(issuer: string, key: string): string {
  return `${new URL(issuer).origin}/__edge-cache/img/${encodeURIComponent(key)}`;
}

function edgeCache(): Cache | null {
  // Absent outside workerd (never the case in production); the route then reads R2 as before.
  return typeof caches === 'undefined' ? null : caches.default;
}

/**
 * The cached object, or null on a miss (or anything the cache answers that is not the stored object: the route then
 * reads R2, which decides every case itself). `range` is passed to the cache, which serves 206 from the stored bytes.
 */
export async function cachedImage(url: string, range: string | null): Promise<CachedImage | null> {
  const cache = edgeCache();
  if (!cache) return null;
  const res = await cache.match(new Request(url, range === null ? {} : { headers: { Range: range } }));
  if (!res?.body) return null;
  const httpEtag = res.headers.get('ETag');
  const uploaded = Date.parse(res.headers.get('Last-Modified') ?? '');
  const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('Content-Range') ?? '');
  const size = contentRange ? Number(contentRange[3]) : Number(res.headers.get('Content-Length'));
  const expected = range === null ? 200 : 206;
  if (
    res.status !== expected ||
    !httpEtag ||
    !Number.isFinite(uploaded) ||
    !Number.isFinite(size) ||
    (range !== null && !contentRange)
  ) {
    await res.body.cancel();
    return null;
  }
  const owner = res.headers.get(H_OWNER);
  const clientId = res.headers.get(H_CLIENT);
  return {
    etag: httpEtag.replace(/^"|"$/g, ''),
    httpEtag,
    uploaded: new Date(uploaded),
    size,
    contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
    ownership: owner && clientId ? { owner, clientId } : null,
    body: res.body,
    served: contentRange
      ? { offset: Number(contentRange[1]), length: Number(contentRange[2]) - Number(contentRange[1]) + 1 }
      : null,
  };
}

/**
 * Stores a whole object read from R2. `body` is a tee'd copy of the bytes being sent to the client; the put runs
 * after the response (waitUntil), so a miss costs the client nothing but the tee.
 */
export function storeImage(
  url: string,
  object: R2Object,
  ownership: ObjectOwnership,
  body: ReadableStream,
  maxAgeSeconds: number,
): Promise<void> {
  const cache = edgeCache();
  if (!cache) return body.cancel();
  const headers = new Headers({
    'Content-Type': object.httpMetadata?.contentType ?? 'application/octet-stream',
    'Content-Length': String(object.size),
    ETag: object.httpEtag,
    'Last-Modified': object.uploaded.toUTCString(),
    // RFC 9111 §5.2.2.1: the bound on how long another colo may serve bytes an overwrite or delete has replaced.
    'Cache-Control': `max-age=${maxAgeSeconds}`,
    [H_OWNER]: ownership.owner,
    [H_CLIENT]: ownership.clientId,
  });
  return cache.put(new Request(url), new Response(body, { headers })).catch((err) => {
    // A failed put only costs the next request an R2 read.
    console.warn(
      JSON.stringify({ level: 'warn', event: 'image_cache_put_failed', message: String(err).slice(0, 200) }),
    );
  });
}

/** Drops this colo's copy after a write or delete, before the route answers (so this colo is never stale). */
export async function purgeImage(url: string): Promise<void> {
  const cache = edgeCache();
  if (cache) await cache.delete(new Request(url));
}
