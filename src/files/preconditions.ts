/**
 * RFC 9110 §13 conditional requests on images: the four precondition headers parsed once, and evaluated in the
 * order of §13.2.2 against what R2 reports of the object (its etag and upload time). Pure rules, no I/O.
 *
 * The routes map the result onto R2 so that no change can slip between check and action: a GET hands the
 * conditions R2 can evaluate itself to the one `get` (src/files/conditional.ts), a PUT pins the exact version it
 * evaluated with a conditional put (`etagMatches` / `etagDoesNotMatch: "*"`, src/storage/files.ts).
 */
import { OAuthError } from '../lib/errors';

/** One entity tag (§8.8.3): `opaque` is the text between the quotes, which is what R2 calls the `etag`. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

export interface Preconditions {
  ifMatch: '*' | EntityTag[] | null;
  ifNoneMatch: '*' | EntityTag[] | null;
  /** Null when absent or not a valid HTTP-date (§13.1.3, §13.1.4: an invalid date is ignored). */
  ifModifiedSince: Date | null;
  ifUnmodifiedSince: Date | null;
}

/** What the object is now, as far as the preconditions care; null when there is none. */
export interface CurrentVersion {
  etag: string;
  uploaded: Date;
}

/** `proceed`, or answer 304 (GET/HEAD only, §15.4.5) or 412 (§15.5.13) and do nothing. */
export type PreconditionOutcome = 'proceed' | 'not-modified' | 'failed';

/** One list element (§5.6.1: empty elements allowed): an entity tag, whose opaque part may itself hold commas. */
const LIST_ELEMENT = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(?:,|$)/y;

/** `*` or a comma-separated list of entity tags; anything else is a 400 (we will not guess what a guard meant). */
function parseTagList(name: string, value: string | null): '*' | EntityTag[] | null {
  if (value === null) return null;
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  const malformed = () =>
    new OAuthError(
      'invalid_request',
      `The ${name} header must be "*" or a list of quoted entity tags, such as the ETag of the image.`,
    );
  LIST_ELEMENT.lastIndex = 0;
  while (LIST_ELEMENT.lastIndex < value.length) {
    const at = LIST_ELEMENT.lastIndex;
    const m = LIST_ELEMENT.exec(value);
    if (!m || LIST_ELEMENT.lastIndex === at) throw malformed();
    if (m[2] !== undefined) tags.push({ weak: m[1] !== undefined, opaque: m[2] });
    else if (m[1] !== undefined) throw malformed();
  }
  if (tags.length === 0) throw malformed();
  return tags;
}

function parseDate(value: string | null): Date | null {
  if (value === null) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t) : null;
}

export function parsePreconditions(headers: Headers): Preconditions {
  return {
    ifMatch: parseTagList('If-Match', headers.get('If-Match')),
    ifNoneMatch: parseTagList('If-None-Match', headers.get('If-None-Match')),
    ifModifiedSince: parseDate(headers.get('If-Modified-Since')),
    ifUnmodifiedSince: parseDate(headers.get('If-Unmodified-Since')),
  };
}

/** Whether the request carries any precondition that could refuse a write (If-Modified-Since never does). */
export function guardsWrite(p: Preconditions): boolean {
  return p.ifMatch !== null || p.ifNoneMatch !== null || p.ifUnmodifiedSince !== null;
}

/** Last-Modified has one-second resolution, R2's upload time milliseconds: compare whole seconds. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * RFC 9110 §13.2.2, in its order. `current` null means there is no image at the path (a PUT creating one; a GET
 * or DELETE of a missing image is a 404 before preconditions are looked at, §13.2.1).
 * - If-Match: strong comparison (§8.8.3.2), so a weak tag never matches; `*` needs a current image (§13.1.1).
 * - If-Unmodified-Since: only without If-Match, and only when there is an image with a date (§13.1.4).
 * - If-None-Match: weak comparison; a match is 304 for GET/HEAD and 412 otherwise (§13.1.2).
 * - If-Modified-Since: GET/HEAD only, only without If-None-Match (§13.1.3).
 */
export function evaluatePreconditions(
  p: Preconditions,
  current: CurrentVersion | null,
  method: string,
): PreconditionOutcome {
  const read = method === 'GET' || method === 'HEAD';
  if (p.ifMatch !== null) {
    const matched =
      current !== null && (p.ifMatch === '*' || p.ifMatch.some((t) => !t.weak && t.opaque === current.etag));
    if (!matched) return 'failed';
  } else if (p.ifUnmodifiedSince !== null && current !== null) {
    if (seconds(current.uploaded) > seconds(p.ifUnmodifiedSince)) return 'failed';
  }
  if (p.ifNoneMatch !== null) {
    const matched = current !== null && (p.ifNoneMatch === '*' || p.ifNoneMatch.some((t) => t.opaque === current.etag));
    if (matched) return read ? 'not-modified' : 'failed';
  } else if (read && p.ifModifiedSince !== null && current !== null) {
    if (seconds(current.uploaded) <= seconds(p.ifModifiedSince)) return 'not-modified';
  }
  return 'proceed';
}

/** The 412 answer: nothing was read, written or deleted. */
export function preconditionFailed(): OAuthError {
  return new OAuthError(
    'invalid_request',
    'The image does not match the conditions of the request (If-Match, If-None-Match or If-Unmodified-Since); nothing was changed.',
    {
      status: 412,
    },
  );
}
