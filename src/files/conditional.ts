/**
 * RFC 9110 conditional and range requests, turned into R2 `get` options so that the condition and the
 * range are evaluated by R2 in the same single call that reads the object.
 */

/**
 * RFC 9110 §13.1.2/§13.1.3: If-None-Match wins over If-Modified-Since. Only a single entity tag (or `*`)
 * can be handed to R2; a list is ignored (the full response is always a correct answer).
 */
export function conditionFromHeaders(headers: Headers): R2Conditional | undefined {
  const inm = headers.get('If-None-Match');
  if (inm !== null) {
    const v = inm.trim();
    if (v === '*') return { etagDoesNotMatch: '*' };
    // §8.8.3: weak comparison for If-None-Match, so W/ is dropped; R2 compares the bare tag.
    const m = /^(?:W\/)?"([\x21\x23-\x7e]*)"$/.exec(v);
    return m ? { etagDoesNotMatch: m[1] } : undefined;
  }
  const ims = headers.get('If-Modified-Since');
  if (ims !== null) {
    const t = Date.parse(ims);
    // Last-Modified has one-second resolution, R2's upload time has milliseconds: compare in seconds.
    if (Number.isFinite(t)) return { uploadedAfter: new Date(t), secondsGranularity: true };
  }
  return undefined;
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
