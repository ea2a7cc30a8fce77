/**
 * Image paths: what a client may name an object, and where that name lives in R2.
 *
 * The public path is what the client chose (`/v1/img/avatars/42.png` → `avatars/42.png`). In R2 it is
 * namespaced by the client it was uploaded through: key = `c/<client_id>/<path>`. A token can therefore
 * only ever address its own client's namespace, which is what makes one R2 read enough to serve an image
 * (see docs/files.md for the consequences).
 */
import { bearerError } from '../lib/errors';

/** Where the routes are mounted; the path after it is the object's public path. */
export const IMAGE_ROUTE_PREFIX = '/v1/img';
/** UTF-8 bytes of the decoded path; R2 keys may be 1024 bytes, and the namespace prefix needs room. */
export const MAX_PATH_BYTES = 512;
const MAX_SEGMENTS = 16;
// C0 and C1 controls, DEL, and the Unicode line/paragraph separators: nothing a file name needs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Validates and decodes the raw (still percent-encoded) path after `/v1/img/`.
 * Throws RFC 6750 invalid_request (400) for anything that could escape or confuse the namespace:
 * empty segments, `.` or `..` (also when percent-encoded), encoded `/` or `\`, control characters,
 * bad percent-encoding, too long or too deep.
 */
export function parseImagePath(raw: string): string {
  if (raw === '') throw badPath('it is empty');
  if (raw.length > MAX_PATH_BYTES * 3) throw badPath(`it is longer than ${MAX_PATH_BYTES} bytes`);
  const segments = raw.split('/');
  if (segments.length > MAX_SEGMENTS) throw badPath(`it has more than ${MAX_SEGMENTS} segments`);
  const decoded = segments.map((segment) => {
    if (segment === '') throw badPath('it has an empty segment');
    let s: string;
    try {
      s = decodeURIComponent(segment);
    } catch {
      throw badPath('it is not valid percent-encoded UTF-8');
    }
    if (s === '.' || s === '..') throw badPath('it has a "." or ".." segment');
    if (s.includes('/') || s.includes('\\')) throw badPath('it has an encoded slash or a backslash');
    if (CONTROL.test(s)) throw badPath('it has control characters');
    return s;
  });
  const path = decoded.join('/');
  if (new TextEncoder().encode(path).length > MAX_PATH_BYTES)
    throw badPath(`it is longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/** The R2 key of a public path within a client's namespace. */
export function objectKey(clientId: string, path: string): string {
  return `${clientNamespace(clientId)}${path}`;
}

/** The key prefix holding every object uploaded through a client. */
export function clientNamespace(clientId: string): string {
  return `c/${clientId}/`;
}

/** The public path back from an R2 key (for listings). */
export function pathFromKey(clientId: string, key: string): string {
  return key.slice(clientNamespace(clientId).length);
}

/** The URL path that serves `path` (each segment percent-encoded), without any token. */
export function imageUrlPath(path: string): string {
  return `${IMAGE_ROUTE_PREFIX}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The absolute URL of an image, on the configured issuer (src/config.ts), never on the request's Host: a Host
 * header is the client's to choose (RFC 9110 §7.2), and a URL built from it would hand out links to any site the
 * requester names (upload `Location`, listing `url`s; issue 10 item 7). The issuer has no trailing slash.
 */
export function imageUrl(issuer: string, path: string): string {
  return issuer + imageUrlPath(path);
}

function badPath(why: string) {
  return bearerError('invalid_request', `The image path is invalid: ${why}.`);
}
