/**
 * Images in R2 (seeds 000/002, issue 4): `GET|HEAD /v1/img/{path}` for `files` tokens (also in the URL,
 * RFC 6750 §2.3), `PUT /v1/img/{path}` and `POST /v1/img` for `upload_files`, `DELETE` and the listing
 * for `base`. Access rule and key layout: docs/files.md.
 */
import { type Context, Hono } from 'hono';
import { type FileAction, isOwner, mayRead, SCOPES_FOR } from '../files/access';
import { r2Condition, rangeFromHeaders, servedRange } from '../files/conditional';
import { type CachedImage, cachedImage, cacheUrl, purgeImage, storeImage } from '../files/edge-cache';
import { declaredImageType, EXTENSIONS } from '../files/magic';
import { clientNamespace, IMAGE_ROUTE_PREFIX, imageUrl, objectKey, parseImagePath, pathFromKey } from '../files/paths';
import {
  evaluatePreconditions,
  guardsWrite,
  type Preconditions,
  parsePreconditions,
  preconditionFailed,
} from '../files/preconditions';
import {
  checkBufferedUpload,
  contentLengthOf,
  readUploadBody,
  tooLarge,
  type UploadBody,
  unsupportedType,
} from '../files/upload-body';
import { bodyErrors, readBodyBytes } from '../lib/body';
import { OAuthError } from '../lib/errors';
import { randomToken } from '../lib/random';
import { type BearerEnv, requireBearer } from '../middleware/bearer';
import {
  deleteImage,
  headImage,
  listImages,
  ownershipOf,
  readImage,
  type WriteOptions,
  writeImage,
} from '../storage/files';
import type { AccessTokenClaims } from '../tokens/verify-access-token';
import type { AppEnv } from '../types';

export const filesRoutes = new Hono<AppEnv>();
type Ctx = Context<BearerEnv>;

/** Headers on every image response: no shared cache may keep a token-authorized answer (RFC 6750 §2.3). */
const SERVE_HEADERS: Record<string, string> = {
  'Cache-Control': 'private',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  // An SVG opened on its own must not run script or load anything: sandbox it (and every other type, harmlessly).
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'Accept-Ranges': 'bytes',
};
/** Multipart framing allowance on top of the file-size limit. */
const MULTIPART_OVERHEAD = 16 * 1024;
const LIST_DEFAULT = 100;
const LIST_MAX = 1000;

/**
 * The bearer check of each action (src/middleware/bearer.ts, the same for every protected route): a `files`
 * token may also come in the URL (RFC 6750 §2.3, seeds 000/002), on every image route alike.
 */
const bearer = (action: FileAction) => requireBearer({ scopes: SCOPES_FOR[action], query: 'files-only' });

function pathOf(c: Ctx): string {
  const pathname = new URL(c.req.url).pathname;
  return parseImagePath(pathname.slice(IMAGE_ROUTE_PREFIX.length + 1));
}

/** Missing, and present-but-not-yours, are the same answer so existence does not leak. */
function notFound(): OAuthError {
  return new OAuthError('invalid_request', 'There is no image at this path for this token.', { status: 404 });
}

// GET /v1/img (base): the caller's own objects, one page at a time.
filesRoutes.get('/', bearer('list'), async (c) => {
  const claims = c.get('token');
  const limitRaw = c.req.query('limit');
  const limit = limitRaw === undefined ? LIST_DEFAULT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) {
    throw new OAuthError('invalid_request', `limit must be a whole number from 1 to ${LIST_MAX}.`);
  }
  const cursor = c.req.query('cursor');
  if (cursor !== undefined && (cursor === '' || cursor.length > 1024))
    throw new OAuthError('invalid_request', 'The cursor is invalid.');
  const page = await listImages(c.env.FILES, clientNamespace(claims.client_id), claims.sub, { cursor, limit });
  const issuer = c.get('config').issuer;
  c.header('Cache-Control', 'no-store');
  return c.json({
    items: page.objects.map((o) => {
      const path = pathFromKey(claims.client_id, o.key);
      return {
        path,
        url: imageUrl(issuer, path),
        content_type: o.httpMetadata?.contentType ?? 'application/octet-stream',
        size: o.size,
        etag: o.httpEtag,
        uploaded: o.uploaded.toISOString(),
      };
    }),
    cursor: page.cursor,
  });
});

// GET|HEAD /v1/img/{path} (files or base): one R2 read, condition and range applied by R2 in that read.
filesRoutes.get('/*', bearer('read'), async (c) => {
  const claims = c.get('token');
  const key = objectKey(claims.client_id, pathOf(c));
  const pre = parsePreconditions(c.req.raw.headers);
  const range = rangeFromHeaders(c.req.raw.headers);
  if (range.kind === 'unsatisfiable') return rangeNotSatisfiable();
  const wanted = range.kind === 'range' ? range.range : undefined;
  // The colo's edge cache first (src/files/edge-cache.ts): a hit answers with no R2 call, the same decisions made.
  const cacheSeconds = c.get('config').imageEdgeCacheSeconds;
  const edgeUrl = cacheSeconds > 0 ? cacheUrl(c.get('config').issuer, key) : null;
  if (edgeUrl) {
    const hit = await cachedImage(edgeUrl, wanted ? (c.req.header('Range') ?? null) : null);
    const answer = hit && (await fromEdgeCache(c, hit, claims, pre, wanted));
    if (answer) return answer;
  }
  let result = await readImage(c.env.FILES, key, { onlyIf: r2Condition(pre), range: wanted });
  if (result.kind === 'missing') throw notFound();
  // The range lies beyond the end of an object in the token's own client namespace, i.e. one it may read.
  if (result.kind === 'unsatisfiable') return rangeNotSatisfiable();
  const ownership = ownershipOf(result.object);
  // §13.2.1: a 404 is answered whatever the preconditions say (and someone else's image is a 404: no 304 or 412).
  if (!ownership || !mayRead(ownership, claims)) {
    if (result.kind === 'body') await result.object.body.cancel();
    throw notFound();
  }
  // §13.2.2 decides from the version R2 returned, whether or not R2 already held the body back.
  const outcome = evaluatePreconditions(pre, result.object, c.req.method);
  const headers = new Headers(SERVE_HEADERS);
  headers.set('ETag', result.object.httpEtag);
  headers.set('Last-Modified', result.object.uploaded.toUTCString());
  if (outcome !== 'proceed') {
    if (result.kind === 'body') await result.object.body.cancel();
    if (outcome === 'failed') throw preconditionFailed(); // §15.5.13
    return new Response(null, { status: 304, headers }); // §15.4.5
  }
  if (result.kind === 'condition-failed') {
    // R2 held the body back although §13.2.2 proceeds: it cannot with r2Condition's mapping, but a second read
    // (unconditional) is the correct answer if it ever does, never a wrong 304 or 412.
    result = await readImage(c.env.FILES, key, { range: wanted });
    if (result.kind !== 'body')
      throw new OAuthError('invalid_request', 'The image changed while it was being read; try again.', { status: 409 });
  }
  const object = result.object;
  headers.set('Content-Type', object.httpMetadata?.contentType ?? 'application/octet-stream');
  let status = 200;
  let length = object.size;
  if (range.kind === 'range') {
    const served = servedRange(range.range, object.size);
    length = served.length;
    headers.set('Content-Range', `bytes ${served.offset}-${served.offset + served.length - 1}/${object.size}`);
    status = 206;
  }
  headers.set('Content-Length', String(length));
  if (c.req.method === 'HEAD') {
    await object.body.cancel();
    return new Response(null, { status, headers });
  }
  if (edgeUrl && status === 200 && pre.ifMatch === null && pre.ifNoneMatch === null) {
    // A whole object read: keep a copy in the colo's cache for the next reader, after the response is sent.
    const ctx = executionContext(c);
    if (ctx) {
      const [toClient, toCache] = object.body.tee();
      ctx.waitUntil(storeImage(edgeUrl, object, ownership, toCache, cacheSeconds));
      return new Response(toClient, { status, headers });
    }
  }
  return new Response(object.body, { status, headers });
});

/**
 * The answer from a cached copy, decided exactly as from R2: ownership (404 when not the token's to read),
 * RFC 9110 §13.2.2 preconditions on the cached ETag and upload time (304 / 412), the range the cache served (206).
 * Null when the cache's answer is not the one asked for (then the route reads R2, which decides every case).
 */
async function fromEdgeCache(
  c: Ctx,
  hit: CachedImage,
  claims: AccessTokenClaims,
  pre: Preconditions,
  wanted: R2Range | undefined,
): Promise<Response | null> {
  const served = wanted ? servedRange(wanted, hit.size) : null;
  if (served && (hit.served?.offset !== served.offset || hit.served.length !== served.length)) {
    await hit.body.cancel();
    return null;
  }
  if (!hit.ownership || !mayRead(hit.ownership, claims)) {
    await hit.body.cancel();
    throw notFound();
  }
  const outcome = evaluatePreconditions(pre, hit, c.req.method);
  const headers = new Headers(SERVE_HEADERS);
  headers.set('ETag', hit.httpEtag);
  headers.set('Last-Modified', hit.uploaded.toUTCString());
  if (outcome !== 'proceed') {
    await hit.body.cancel();
    if (outcome === 'failed') throw preconditionFailed(); // §15.5.13
    return new Response(null, { status: 304, headers }); // §15.4.5
  }
  headers.set('Content-Type', hit.contentType);
  let status = 200;
  if (served) {
    headers.set('Content-Range', `bytes ${served.offset}-${served.offset + served.length - 1}/${hit.size}`);
    status = 206;
  }
  headers.set('Content-Length', String(served ? served.length : hit.size));
  if (c.req.method === 'HEAD') {
    await hit.body.cancel();
    return new Response(null, { status, headers });
  }
  return new Response(hit.body, { status, headers });
}

/** The request's ExecutionContext, or null where there is none (app.request in a unit test). */
function executionContext(c: Ctx): { waitUntil(p: Promise<unknown>): void } | null {
  try {
    return c.executionCtx;
  } catch {
    return null;
  }
}

function rangeNotSatisfiable(): Response {
  // RFC 9110 §15.5.17. The size is not known without a second read, so Content-Range is left out.
  return new Response(null, { status: 416, headers: SERVE_HEADERS });
}

// PUT /v1/img/{path} (upload_files or base): the raw bytes, with their Content-Type.
filesRoutes.put('/*', bearer('write'), async (c) => {
  const claims = c.get('token');
  const path = pathOf(c);
  const config = c.get('config');
  const declared = declaredImageType(c.req.header('Content-Type'));
  if (!declared) throw unsupportedType("send the image's type in Content-Type");
  const length = contentLengthOf(c.req.raw.headers);
  if (length !== null && length > config.maxUploadBytes) throw tooLarge(config.maxUploadBytes);

  const key = objectKey(claims.client_id, path);
  const pre = parsePreconditions(c.req.raw.headers);
  const expect = await writeExpectation(c.env.FILES, key, claims, pre);
  const upload = await readUploadBody(c.req.raw, declared, config.maxUploadBytes);
  return stored(c, claims, path, key, upload, expect, pre);
});

// POST /v1/img (upload_files or base): multipart/form-data with a `file` field; the server names the object.
filesRoutes.post('/', bearer('write'), async (c) => {
  const claims = c.get('token');
  const config = c.get('config');
  if (!/^multipart\/form-data\s*;/i.test(c.req.header('Content-Type') ?? '')) {
    throw unsupportedType('send multipart/form-data with the image in the "file" field');
  }
  const length = contentLengthOf(c.req.raw.headers);
  if (length === null) throw new OAuthError('invalid_request', 'A Content-Length is required.', { status: 411 });
  if (length > config.maxUploadBytes + MULTIPART_OVERHEAD) throw tooLarge(config.maxUploadBytes);
  // Through the bounded reader first (limit counted while reading, a broken-off body is a 400), then parsed.
  const limit = config.maxUploadBytes + MULTIPART_OVERHEAD;
  const errors = { ...bodyErrors(), tooLarge: () => tooLarge(config.maxUploadBytes) };
  const raw = await readBodyBytes(c.req.raw, limit, errors);
  const multipart = new Response(raw, { headers: { 'Content-Type': c.req.header('Content-Type') ?? '' } });
  let file: File | string | null;
  try {
    file = (await multipart.formData()).get('file');
  } catch {
    throw new OAuthError('invalid_request', 'The multipart body is malformed.');
  }
  if (!(file instanceof File)) throw new OAuthError('invalid_request', 'The "file" field with an image is missing.');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const declared = file.type && file.type !== 'application/octet-stream' ? declaredImageType(file.type) : null;
  if (file.type && file.type !== 'application/octet-stream' && !declared)
    throw unsupportedType(`the file type ${file.type.slice(0, 60)} is not accepted`);
  const { type, sha256 } = await checkBufferedUpload(bytes, declared, config.maxUploadBytes);
  const path = `${randomToken(15)}.${EXTENSIONS[type]}`; // 120 random bits: no collision in practice, and put refuses one anyway
  const key = objectKey(claims.client_id, path);
  const upload: UploadBody = {
    body: bytes.buffer as ArrayBuffer,
    size: bytes.byteLength,
    type,
    sha256,
    done: Promise.resolve(),
  };
  return stored(c, claims, path, key, upload, 'absent', null);
});

// DELETE /v1/img/{path} (base, owner only).
filesRoutes.delete('/*', bearer('delete'), async (c) => {
  const claims = c.get('token');
  const key = objectKey(claims.client_id, pathOf(c));
  const pre = parsePreconditions(c.req.raw.headers);
  const existing = await headImage(c.env.FILES, key);
  const ownership = existing && ownershipOf(existing);
  if (!ownership || !mayRead(ownership, claims)) throw notFound();
  if (!isOwner(ownership, claims))
    throw new OAuthError('access_denied', 'Only the owner of an image may delete it.', { status: 403 });
  // RFC 9110 §13.1.1/§13.1.4 on the version just read. R2 has no conditional delete, so unlike a PUT this is not
  // atomic: only the owner can replace the image in between, and such a replacement would be deleted (docs/files.md).
  if (evaluatePreconditions(pre, existing, 'DELETE') !== 'proceed') throw preconditionFailed();
  await deleteImage(c.env.FILES, key);
  await purgeEdgeCopy(c, key);
  c.header('Cache-Control', 'no-store');
  return c.body(null, 204);
});

/**
 * The write precondition: absent, or present and the caller's (then only that exact version may be replaced), and
 * the request's own preconditions (RFC 9110 §13.2.2) true of that version. Someone else's object (403, which
 * §13.2.1 puts before any 412) and a failed precondition (412) are refused before a byte of the body is read.
 * The version evaluated is the one the conditional put pins, so nothing can change between check and write.
 */
async function writeExpectation(
  bucket: R2Bucket,
  key: string,
  claims: AccessTokenClaims,
  pre: Preconditions,
): Promise<WriteOptions['expect']> {
  const existing = await headImage(bucket, key);
  if (existing) {
    const ownership = ownershipOf(existing);
    if (!ownership || !isOwner(ownership, claims)) throw overwriteRefused();
  }
  if (evaluatePreconditions(pre, existing, 'PUT') !== 'proceed') throw preconditionFailed();
  return existing ? { etag: existing.etag } : 'absent';
}

/** This colo's cached copy goes before the write or delete is acknowledged (other colos: max-age, edge-cache.ts). */
function purgeEdgeCopy(c: Ctx, key: string): Promise<void> {
  const config = c.get('config');
  return config.imageEdgeCacheSeconds > 0 ? purgeImage(cacheUrl(config.issuer, key)) : Promise.resolve();
}

function overwriteRefused(): OAuthError {
  return new OAuthError('access_denied', 'An image with this path belongs to someone else; choose another path.', {
    status: 403,
  });
}

async function stored(
  c: Ctx,
  claims: AccessTokenClaims,
  path: string,
  key: string,
  upload: UploadBody,
  expect: WriteOptions['expect'],
  pre: Preconditions | null,
): Promise<Response> {
  const ownership = { owner: claims.sub, clientId: claims.client_id };
  const [put, pumped] = await Promise.allSettled([
    writeImage(c.env.FILES, key, upload.body, { expect, ownership, contentType: upload.type, sha256: upload.sha256 }),
    upload.done,
  ]);
  if (pumped.status === 'rejected') {
    if (pumped.reason instanceof OAuthError) throw pumped.reason;
    throw new OAuthError('invalid_request', 'The upload ended before all its bytes arrived; nothing was stored.', {
      reason: String(pumped.reason),
    });
  }
  if (put.status === 'rejected') throw put.reason;
  const result = put.value;
  if (result.kind === 'checksum-mismatch')
    throw new OAuthError('invalid_request', 'The body does not match its SHA-256 digest; nothing was stored.');
  if (result.kind === 'changed') {
    // Someone wrote this path between our check and our write: say whose it is now.
    const now = await headImage(c.env.FILES, key);
    const current = now && ownershipOf(now);
    if (current && !isOwner(current, claims)) throw overwriteRefused();
    // A guarded PUT whose guard is now false (e.g. If-None-Match: * and the path was just created) is a 412.
    if (pre && guardsWrite(pre) && evaluatePreconditions(pre, now, 'PUT') !== 'proceed') throw preconditionFailed();
    throw new OAuthError('invalid_request', 'The image changed while it was being uploaded; try again.', {
      status: 409,
    });
  }
  const object = result.object;
  await purgeEdgeCopy(c, key);
  const url = imageUrl(c.get('config').issuer, path);
  c.header('Location', url);
  c.header('Cache-Control', 'no-store');
  return c.json({ path, url, content_type: upload.type, size: object.size, etag: object.httpEtag }, 201);
}
