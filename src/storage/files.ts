/**
 * Image objects in R2 (binding FILES). Every object carries its ownership in customMetadata, so the
 * access check needs no other storage: serving an image is one R2 `get`. Layout: docs/storage-schema.md.
 */
/** What every object records about its upload (R2 customMetadata). */
export interface ObjectOwnership {
  /** `sub` of the uploading token: a user id, or the client id for client_credentials. */
  owner: string;
  /** `client_id` of the uploading token. */
  clientId: string;
}

/** customMetadata keys. */
const META_OWNER = 'owner';
const META_CLIENT = 'client_id';

/** The ownership recorded on an object; null if the object was not written by this server. */
export function ownershipOf(object: R2Object): ObjectOwnership | null {
  const owner = object.customMetadata?.[META_OWNER];
  const clientId = object.customMetadata?.[META_CLIENT];
  return owner && clientId ? { owner, clientId } : null;
}

export type ReadResult =
  | { kind: 'missing' }
  /** R2 held the body back because the `onlyIf` condition was not met (the route decides 304 or 412). */
  | { kind: 'condition-failed'; object: R2Object }
  | { kind: 'body'; object: R2ObjectBody }
  /** R2 refused the range as beyond the object's end. */
  | { kind: 'unsatisfiable' };

/** One R2 call: the object (or only its metadata when the condition fails), conditional and range applied by R2. */
export async function readImage(
  bucket: R2Bucket,
  key: string,
  options: { onlyIf?: R2Conditional; range?: R2Range },
): Promise<ReadResult> {
  let object: R2Object | R2ObjectBody | null;
  try {
    object = await bucket.get(key, options);
  } catch (err) {
    if (r2ErrorCode(err) === 10039) return { kind: 'unsatisfiable' };
    throw err;
  }
  if (!object) return { kind: 'missing' };
  if (!('body' in object)) return { kind: 'condition-failed', object };
  return { kind: 'body', object };
}

/** Metadata only (no body): the ownership check before a write or delete. */
export function headImage(bucket: R2Bucket, key: string): Promise<R2Object | null> {
  return bucket.head(key);
}

export interface WriteOptions {
  contentType: string;
  ownership: ObjectOwnership;
  /** SHA-256 of the bytes (hex or raw); R2 refuses the write if what arrived differs. */
  sha256?: string | ArrayBuffer;
  /**
   * What the caller saw when it checked ownership: the object's etag, or `absent`. The write happens only
   * if that is still true (R2 conditional put), so check-and-write is atomic.
   */
  expect: { etag: string } | 'absent';
}

export type WriteResult = { kind: 'stored'; object: R2Object } | { kind: 'changed' } | { kind: 'checksum-mismatch' };

/** Stores an image if the key is still as the caller last saw it. A failed or short body stores nothing. */
export async function writeImage(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream | ArrayBuffer,
  options: WriteOptions,
): Promise<WriteResult> {
  const onlyIf: R2Conditional =
    options.expect === 'absent' ? { etagDoesNotMatch: '*' } : { etagMatches: options.expect.etag };
  let object: R2Object | null;
  try {
    object = await bucket.put(key, body, {
      onlyIf,
      httpMetadata: { contentType: options.contentType },
      customMetadata: { [META_OWNER]: options.ownership.owner, [META_CLIENT]: options.ownership.clientId },
      ...(options.sha256 !== undefined ? { sha256: options.sha256 } : {}),
    });
  } catch (err) {
    if (r2ErrorCode(err) === 10037) return { kind: 'checksum-mismatch' };
    throw err;
  }
  return object ? { kind: 'stored', object } : { kind: 'changed' };
}

export function deleteImage(bucket: R2Bucket, key: string): Promise<void> {
  return bucket.delete(key);
}

/**
 * One page of objects under `prefix` owned by `owner`. R2 lists by prefix; ownership is filtered from the
 * customMetadata returned with the listing, so a page may hold fewer than `limit` items: follow `cursor`.
 */
export async function listImages(
  bucket: R2Bucket,
  prefix: string,
  owner: string,
  options: { cursor?: string; limit: number },
): Promise<{ objects: R2Object[]; cursor: string | null }> {
  const page = await bucket.list({
    prefix,
    cursor: options.cursor,
    limit: options.limit,
    include: ['httpMetadata', 'customMetadata'],
  });
  return {
    objects: page.objects.filter((o) => ownershipOf(o)?.owner === owner),
    cursor: page.truncated ? page.cursor : null,
  };
}

/** R2 errors end their message with a numeric code, e.g. "get: The requested range is not satisfiable (10039)". */
function r2ErrorCode(err: unknown): number | null {
  const m = err instanceof Error ? /\((\d{5})\)\s*$/.exec(err.message) : null;
  return m ? Number(m[1]) : null;
}
