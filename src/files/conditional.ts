/**
 * RFC 9110 conditional and range requests, turned into R2 `get` options so that the condition and the
 * range are evaluated by R2 in the same single call that reads the object.
 */
import { type Preconditions, parsePreconditions } from './preconditions';

/**
 * The part of the preconditions (src/files/preconditions.ts) that R2 evaluates itself in the one `get`, so that a
 * failed condition transfers no body: a single strong If-Match tag (`etagMatches`), a single If-None-Match tag or
 * `*` (`etagDoesNotMatch`; §8.8.3 weak comparison, so W/ is dropped and R2 compares the bare tag), and
 * If-Modified-Since when there is no If-None-Match (§13.1.3). Lists and If-Unmodified-Since are left to the
 * route's own evaluation of the object R2 returns (`evaluatePreconditions`), which decides the status either way.
 */
export function r2Condition(p: Preconditions): R2Conditional | undefined {
  const onlyIf: R2Conditional = {};
  if (Array.isArray(p.ifMatch) && p.ifMatch.length === 1 && !p.ifMatch[0].weak)
    onlyIf.etagMatches = p.ifMatch[0].opaque;
  if (p.ifNoneMatch === '*') onlyIf.etagDoesNotMatch = '*';
  else if (p.ifNoneMatch?.length === 1) onlyIf.etagDoesNotMatch = p.ifNoneMatch[0].opaque;
  else if (p.ifNoneMatch === null && p.ifModifiedSince !== null) {
    // Last-Modified has one-second resolution, R2's upload time has milliseconds: compare in seconds.
    onlyIf.uploadedAfter = p.ifModifiedSince;
    onlyIf.secondsGranularity = true;
  }
  return Object.keys(onlyIf).length > 0 ? onlyIf : undefined;
}

/** `r2Condition` of a request's headers. */
export function conditionFromHeaders(headers: Headers): R2Conditional | undefined {
  return r2Condition(parsePreconditions(headers));
}

export type RangeRequest = { kind: 'none' } | { kind: 'unsatisfiable' } | { kind: 'range'; range: R2Range };

/**
 * RFC 9110 §14.1.2: one `bytes=` range. Anything R2 cannot serve as one range (several ranges, another unit,
 * bad syntax) is ignored and the whole object is sent, which §14.2 allows. With If-Range the range is
 * ignored too: the validator could only be checked after the read, and a second read would cost a round trip.
 */
export function rangeFromHeaders(headers: Headers): RangeRequest {
  const value = headers.get('Range');
  if (value === null || headers.has('If-Range')) return { kind: 'none' };
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'none' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 ? { kind: 'unsatisfiable' } : { kind: 'range', range: { suffix } };
  }
  const offset = Number(m[1]);
  if (m[2] === '') return { kind: 'range', range: { offset } };
  const last = Number(m[2]);
  if (last < offset) return { kind: 'none' };
  return { kind: 'range', range: { offset, length: last - offset + 1 } };
}

/**
 * The bytes a range covers in an object of `size` bytes (R2 clamps a range that runs past the end), computed
 * from the request rather than from what R2 echoes back, whose shape may differ (e.g. `{ suffix }`).
 */
export function servedRange(range: R2Range, size: number): { offset: number; length: number } {
  if ('suffix' in range) {
    const offset = Math.max(size - range.suffix, 0);
    return { offset, length: size - offset };
  }
  const offset = Math.min(range.offset ?? 0, size);
  const length = Math.min(range.length ?? size - offset, size - offset);
  return { offset, length };
}
