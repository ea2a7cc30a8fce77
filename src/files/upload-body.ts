/**
 * Reading an upload: size limit, magic-number check on the first bytes, then the bytes for R2.
 *
 * With a Content-Length the body is streamed to R2 through a FixedLengthStream of that length, so a body
 * that ends early makes the put fail and nothing is stored; a `Content-Digest: sha-256=:…:` (RFC 9530)
 * from the client is handed to R2, which refuses the write if the bytes differ. Without a Content-Length
 * (chunked) the body is buffered up to the limit and its SHA-256 is computed here and checked by R2.
 */
import { OAuthError } from '../oauth/errors';
import { sniffImageType, SNIFF_BYTES, type ImageType } from './magic';

export interface UploadBody {
  body: ReadableStream | ArrayBuffer;
  size: number;
  type: ImageType;
  /** Hex SHA-256 for R2 to check, when known before the write. */
  sha256?: string;
  /** Settles when the whole body has been handed to R2 (streaming) or at once (buffered). */
  done: Promise<void>;
}

/** Content-Length as a number; null when absent; invalid_request when malformed. */
export function contentLengthOf(headers: Headers): number | null {
  const v = headers.get('Content-Length');
  if (v === null) return null;
  if (!/^\d{1,15}$/.test(v)) throw new OAuthError('invalid_request', 'The Content-Length header is malformed.');
  return Number(v);
}

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
  return new OAuthError('invalid_request', `The upload ended after ${received} of ${expected} bytes; nothing was stored.`);
}

export function tooLarge(maxBytes: number): OAuthError {
  return new OAuthError('invalid_request', `The file is larger than the limit of ${maxBytes} bytes.`, { status: 413 });
}

export function unsupportedType(detail: string): OAuthError {
  return new OAuthError('invalid_request', `Only PNG, JPEG, GIF, WebP, AVIF and SVG images are accepted: ${detail}.`, { status: 415 });
}

/**
 * Checks the limit and the magic number, then returns the body ready for R2. `declared` is the client's
 * Content-Type (already checked to be an image type); the bytes must be that type.
 */
export async function readUploadBody(request: Request, declared: ImageType, maxBytes: number): Promise<UploadBody> {
  const length = contentLengthOf(request.headers);
  if (length !== null && length > maxBytes) throw tooLarge(maxBytes); // refused before reading a byte
  if (!request.body || length === 0) throw new OAuthError('invalid_request', 'The request body is empty.');
  const clientDigest = contentDigestSha256(request.headers) ?? undefined;

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let ended = false;
  const fail = (err: OAuthError) => {
    reader.cancel().catch(() => {});
    return err;
  };
  while (received < SNIFF_BYTES) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    chunks.push(value);
    received += value.byteLength;
    if (received > maxBytes) throw fail(tooLarge(maxBytes));
  }
  const head = concat(chunks, received);
  const sniffed = sniffImageType(head);
  if (!sniffed) throw fail(unsupportedType('the bytes are not a recognised image'));
  if (sniffed !== declared) throw fail(unsupportedType(`the Content-Type says ${declared} but the bytes are ${sniffed}`));

  if (length !== null) {
    // Stream: the first bytes, then the rest of the body, through a stream that must see exactly `length` bytes.
    const fixed = new FixedLengthStream(length);
    const writer = fixed.writable.getWriter();
    const done = (async () => {
      try {
        await writer.write(head);
        let written = head.byteLength;
        while (!ended) {
          const { done: end, value } = await reader.read();
          if (end) break;
          written += value.byteLength;
          await writer.write(value);
        }
        // Counted here too, so a short body is reported as such (the put then fails on the short stream).
        if (written !== length) throw incomplete(written, length);
        await writer.close();
      } catch (err) {
        await writer.abort(err).catch(() => {});
        reader.cancel().catch(() => {});
        throw err;
      }
    })();
    done.catch(() => {}); // the route awaits it; this only keeps an early failure from being "unhandled"
    return { body: fixed.readable, size: length, type: sniffed, sha256: clientDigest, done };
  }

  // Chunked: buffer up to the limit, then let R2 check our SHA-256 of what we received.
  while (!ended) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
    if (received > maxBytes) throw fail(tooLarge(maxBytes));
  }
  const all = concat(chunks, received);
  const ours = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
  if (clientDigest && clientDigest !== ours) throw new OAuthError('invalid_request', 'The Content-Digest does not match the body received.');
  return { body: all.buffer as ArrayBuffer, size: received, type: sniffed, sha256: ours, done: Promise.resolve() };
}

/** Bytes already in memory (multipart uploads): same limit and magic-number rules, SHA-256 computed here. */
export async function checkBufferedUpload(bytes: Uint8Array, declared: ImageType | null, maxBytes: number) {
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw new OAuthError('invalid_request', 'The file is empty.');
  const sniffed = sniffImageType(bytes.subarray(0, SNIFF_BYTES));
  if (!sniffed) throw unsupportedType('the bytes are not a recognised image');
  if (declared && sniffed !== declared) throw unsupportedType(`the file type says ${declared} but the bytes are ${sniffed}`);
  const sha256 = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
  return { type: sniffed, sha256 };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
