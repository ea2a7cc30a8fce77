/**
 * Reading an upload: size limit, magic-number check on the first bytes, then the bytes for R2.
 * The bytes are read through the one bounded reader, src/lib/body.ts.
 *
 * With a Content-Length the body is streamed to R2 through a FixedLengthStream of that length, so a body
 * that ends early makes the put fail and nothing is stored; a `Content-Digest: sha-256=:…:` (RFC 9530)
 * from the client is handed to R2, which refuses the write if the bytes differ. Without a Content-Length
 * (chunked) the body is buffered up to the limit and its SHA-256 is computed here and checked by R2.
 */
import { type BodyErrors, BoundedBody, concatBytes, declaredLength } from '../lib/body';
import { OAuthError } from '../lib/errors';
import { type ImageType, SNIFF_BYTES, sniffImageType } from './magic';

export interface UploadBody {
  body: ReadableStream | ArrayBuffer;
  size: number;
  type: ImageType;
  /** Hex SHA-256 for R2 to check, when known before the write. */
  sha256?: string;
  /** Settles when the whole body has been handed to R2 (streaming) or at once (buffered). */
  done: Promise<void>;
}

/** Content-Length as a number; null when absent; invalid_request when malformed (src/lib/body.ts). */
export const contentLengthOf = declaredLength;

/** RFC 9530 §2: `Content-Digest: sha-256=:<base64>:` → hex; null when absent or only other algorithms. */
export function contentDigestSha256(headers: Headers): string | null {
  const v = headers.get('Content-Digest');
  if (v === null) return null;
  const m = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]+={0,2}):\s*(?:,|$)/.exec(v);
  if (!m) return null;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0));
  } catch {
    throw new OAuthError('invalid_request', 'The Content-Digest sha-256 value is not valid base64.');
  }
  if (bytes.length !== 32) throw new OAuthError('invalid_request', 'The Content-Digest sha-256 value is not 32 bytes.');
  return toHex(bytes);
}

export function incomplete(received: number, expected: number): OAuthError {
  return new OAuthError(
    'invalid_request',
    `The upload ended after ${received} of ${expected} bytes; nothing was stored.`,
  );
}

export function tooLarge(maxBytes: number): OAuthError {
  return new OAuthError('invalid_request', `The file is larger than the limit of ${maxBytes} bytes.`, { status: 413 });
}

export function unsupportedType(detail: string): OAuthError {
  return new OAuthError('invalid_request', `Only PNG, JPEG, GIF, WebP, AVIF and SVG images are accepted: ${detail}.`, {
    status: 415,
  });
}

/** The body reader's failures, worded for an upload. */
function uploadErrors(maxBytes: number): BodyErrors {
  return {
    tooLarge: () => tooLarge(maxBytes),
    incomplete: (received, expected) =>
      received !== null && expected !== null
        ? incomplete(received, expected)
        : new OAuthError('invalid_request', 'The upload broke off before it was complete; nothing was stored.'),
  };
}

/**
 * Checks the limit and the magic number, then returns the body ready for R2. `declared` is the client's
 * Content-Type (already checked to be an image type); the bytes must be that type. Every chunk goes through
 * src/lib/body.ts `BoundedBody`: limit, declared length and a broken-off connection (400, logged at info).
 */
export async function readUploadBody(request: Request, declared: ImageType, maxBytes: number): Promise<UploadBody> {
  const length = contentLengthOf(request.headers);
  if (length !== null && length > maxBytes) throw tooLarge(maxBytes); // refused before reading a byte
  if (!request.body || length === 0) throw new OAuthError('invalid_request', 'The request body is empty.');
  const clientDigest = contentDigestSha256(request.headers) ?? undefined;

  const body = new BoundedBody(request.body, maxBytes, length, uploadErrors(maxBytes));
  const chunks: Uint8Array[] = [];
  let ended = false;
  while (body.received < SNIFF_BYTES) {
    const chunk = await body.next();
    if (chunk === null) {
      ended = true;
      break;
    }
    chunks.push(chunk);
  }
  const head = concatBytes(chunks, body.received);
  if (head.byteLength === 0) throw new OAuthError('invalid_request', 'The request body is empty.');
  const sniffed = sniffImageType(head);
  if (!sniffed) throw body.fail(unsupportedType('the bytes are not a recognised image'));
  if (sniffed !== declared) {
    throw body.fail(unsupportedType(`the Content-Type says ${declared} but the bytes are ${sniffed}`));
  }

  if (length !== null) {
    // Stream: the first bytes, then the rest of the body, through a stream that must see exactly `length` bytes.
    const fixed = new FixedLengthStream(length);
    const writer = fixed.writable.getWriter();
    const done = (async () => {
      try {
        await writer.write(head);
        // BoundedBody refuses a short or broken body, so the put then fails on the short stream: nothing stored.
        for (let chunk = ended ? null : await body.next(); chunk !== null; chunk = await body.next()) {
          await writer.write(chunk);
        }
        await writer.close();
      } catch (err) {
        await writer.abort(err).catch(() => {});
        body.fail(incomplete(body.received, length));
        throw err;
      }
    })();
    done.catch(() => {}); // the route awaits it; this only keeps an early failure from being "unhandled"
    return { body: fixed.readable, size: length, type: sniffed, sha256: clientDigest, done };
  }

  // Chunked: buffer up to the limit, then let R2 check our SHA-256 of what we received.
  for (let chunk = ended ? null : await body.next(); chunk !== null; chunk = await body.next()) chunks.push(chunk);
  const all = concatBytes(chunks, body.received);
  const ours = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
  if (clientDigest && clientDigest !== ours)
    throw new OAuthError('invalid_request', 'The Content-Digest does not match the body received.');
  const buffer = all.byteOffset === 0 && all.byteLength === all.buffer.byteLength ? all.buffer : all.slice().buffer;
  return { body: buffer as ArrayBuffer, size: body.received, type: sniffed, sha256: ours, done: Promise.resolve() };
}

/** Bytes already in memory (multipart uploads): same limit and magic-number rules, SHA-256 computed here. */
export async function checkBufferedUpload(bytes: Uint8Array, declared: ImageType | null, maxBytes: number) {
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw new OAuthError('invalid_request', 'The file is empty.');
  const sniffed = sniffImageType(bytes.subarray(0, SNIFF_BYTES));
  if (!sniffed) throw unsupportedType('the bytes are not a recognised image');
  if (declared && sniffed !== declared)
    throw unsupportedType(`the file type says ${declared} but the bytes are ${sniffed}`);
  const sha256 = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
  return { type: sniffed, sha256 };
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
