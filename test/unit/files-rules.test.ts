import { describe, expect, it } from 'vitest';
import { conditionFromHeaders, rangeFromHeaders, servedRange } from '../../src/files/conditional';
import { declaredImageType, sniffImageType } from '../../src/files/magic';
import { imageUrl, imageUrlPath, objectKey, parseImagePath } from '../../src/files/paths';
import { evaluatePreconditions, parsePreconditions } from '../../src/files/preconditions';
import { OAuthError } from '../../src/lib/errors';
import { avif, gif, jpeg, png, svg, webp } from '../files-fixtures';

const bad = (raw: string) => {
  try {
    parseImagePath(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).status).toBe(400);
    expect((err as OAuthError).headers['WWW-Authenticate']).toMatch(/^Bearer .*error="invalid_request"/);
    return;
  }
  throw new Error(`accepted ${raw}`);
};

describe('image paths', () => {
  it('decodes good paths and maps them into the client namespace', () => {
    expect(parseImagePath('whateverImage.png')).toBe('whateverImage.png');
    expect(parseImagePath('a/b%20c/%C3%A9t%C3%A9.png')).toBe('a/b c/été.png');
    expect(objectKey('cli_1', 'a/b.png')).toBe('c/cli_1/a/b.png');
    expect(imageUrlPath('a/b c/été.png')).toBe('/v1/img/a/b%20c/%C3%A9t%C3%A9.png');
    expect(imageUrl('https://as.example', 'a/b c.png')).toBe('https://as.example/v1/img/a/b%20c.png');
  });

  it.each([
    ['', 'empty'],
    ['a//b.png', 'empty segment'],
    ['a/', 'trailing slash'],
    ['..', 'dot-dot'],
    ['a/%2e%2e/b.png', 'encoded dot-dot'],
    ['a/%2E/b.png', 'encoded dot'],
    ['a%2F..%2Fb.png', 'encoded slash'],
    ['a%5Cb.png', 'backslash'],
    ['a%00.png', 'NUL'],
    ['a%0A.png', 'newline'],
    ['a%7F.png', 'DEL'],
    ['a%E2%80%A8.png', 'line separator'],
    ['%E0%A4%A.png', 'bad percent-encoding'],
    ['%FF.png', 'not UTF-8'],
    ['x'.repeat(513), 'too long'],
    [Array(17).fill('a').join('/'), 'too deep'],
  ])('refuses %j (%s)', (raw) => bad(raw));

  it('accepts exactly 512 bytes', () => {
    expect(parseImagePath('x'.repeat(512))).toHaveLength(512);
    bad('%C3%A9'.repeat(257)); // 514 bytes once decoded
  });
});

describe('magic numbers', () => {
  it('recognises each accepted type', () => {
    expect(sniffImageType(png())).toBe('image/png');
    expect(sniffImageType(jpeg())).toBe('image/jpeg');
    expect(sniffImageType(gif())).toBe('image/gif');
    expect(sniffImageType(webp())).toBe('image/webp');
    expect(sniffImageType(avif())).toBe('image/avif');
    expect(sniffImageType(svg())).toBe('image/svg+xml');
  });

  it('refuses other bytes', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(sniffImageType(text('<html><script>alert(1)</script>'))).toBeNull();
    expect(sniffImageType(text('%PDF-1.7'))).toBeNull();
    expect(sniffImageType(text('<?xml version="1.0"?><svgx/>'))).toBeNull();
    expect(sniffImageType(text('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(
      sniffImageType(new Uint8Array([0, 0, 0, 24, ...text('ftypmp42'), 0, 0, 0, 0, ...text('isommp42')])),
    ).toBeNull();
    expect(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e]))).toBeNull();
    expect(sniffImageType(new Uint8Array())).toBeNull();
  });

  it('reads the declared type', () => {
    expect(declaredImageType('image/PNG; charset=binary')).toBe('image/png');
    expect(declaredImageType('text/html')).toBeNull();
    expect(declaredImageType(undefined)).toBeNull();
  });
});

describe('conditional and range headers', () => {
  const h = (init: Record<string, string>) => new Headers(init);
  it('maps If-None-Match before If-Modified-Since', () => {
    expect(
      conditionFromHeaders(h({ 'If-None-Match': '"abc"', 'If-Modified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' })),
    ).toEqual({ etagDoesNotMatch: 'abc' });
    expect(conditionFromHeaders(h({ 'If-None-Match': 'W/"abc"' }))).toEqual({ etagDoesNotMatch: 'abc' });
    expect(conditionFromHeaders(h({ 'If-None-Match': '*' }))).toEqual({ etagDoesNotMatch: '*' });
    expect(conditionFromHeaders(h({ 'If-None-Match': '"a", "b"' }))).toBeUndefined();
    expect(conditionFromHeaders(h({ 'If-Modified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' }))).toEqual({
      uploadedAfter: new Date('2026-11-22T06:00:00Z'),
      secondsGranularity: true,
    });
    expect(conditionFromHeaders(h({ 'If-Modified-Since': 'yesterday' }))).toBeUndefined();
  });

  it('maps one bytes range, ignores the rest', () => {
    expect(rangeFromHeaders(h({ Range: 'bytes=2-4' }))).toEqual({ kind: 'range', range: { offset: 2, length: 3 } });
    expect(rangeFromHeaders(h({ Range: 'bytes=5-' }))).toEqual({ kind: 'range', range: { offset: 5 } });
    expect(rangeFromHeaders(h({ Range: 'bytes=-7' }))).toEqual({ kind: 'range', range: { suffix: 7 } });
    expect(rangeFromHeaders(h({ Range: 'bytes=-0' }))).toEqual({ kind: 'unsatisfiable' });
    expect(rangeFromHeaders(h({ Range: 'bytes=4-2' }))).toEqual({ kind: 'none' });
    expect(rangeFromHeaders(h({ Range: 'bytes=0-1,3-4' }))).toEqual({ kind: 'none' });
    expect(rangeFromHeaders(h({ Range: 'items=0-1' }))).toEqual({ kind: 'none' });
    expect(rangeFromHeaders(h({ Range: 'bytes=0-1', 'If-Range': '"x"' }))).toEqual({ kind: 'none' });
  });

  it('computes the bytes a range covers, clamped to the object', () => {
    expect(servedRange({ offset: 2, length: 3 }, 10)).toEqual({ offset: 2, length: 3 });
    expect(servedRange({ offset: 5, length: 50 }, 10)).toEqual({ offset: 5, length: 5 });
    expect(servedRange({ offset: 7 }, 10)).toEqual({ offset: 7, length: 3 });
    expect(servedRange({ suffix: 4 }, 10)).toEqual({ offset: 6, length: 4 });
    expect(servedRange({ suffix: 40 }, 10)).toEqual({ offset: 0, length: 10 });
  });
});

describe('preconditions (RFC 9110 §13.2.2)', () => {
  const v = { etag: 'abc', uploaded: new Date('2026-11-22T06:00:00.700Z') };
  const ev = (headers: Record<string, string>, method = 'PUT', current: typeof v | null = v) =>
    evaluatePreconditions(parsePreconditions(new Headers(headers)), current, method);

  it('evaluates in order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since', () => {
    expect(ev({ 'If-Match': '"abc"' })).toBe('proceed');
    expect(ev({ 'If-Match': 'W/"abc"' })).toBe('failed');
    expect(ev({ 'If-Match': '*' }, 'PUT', null)).toBe('failed');
    expect(ev({ 'If-Match': '"abc"', 'If-Unmodified-Since': 'Sun, 22 Nov 2026 05:00:00 GMT' })).toBe('proceed');
    expect(ev({ 'If-Unmodified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' })).toBe('proceed'); // same second
    expect(ev({ 'If-Unmodified-Since': 'Sun, 22 Nov 2026 05:59:59 GMT' })).toBe('failed');
    expect(ev({ 'If-Unmodified-Since': 'Sun, 22 Nov 2026 05:59:59 GMT' }, 'PUT', null)).toBe('proceed');
    expect(ev({ 'If-None-Match': '*' })).toBe('failed');
    expect(ev({ 'If-None-Match': '*' }, 'GET')).toBe('not-modified');
    expect(ev({ 'If-None-Match': '*' }, 'PUT', null)).toBe('proceed');
    expect(ev({ 'If-None-Match': '"x", W/"abc"' }, 'HEAD')).toBe('not-modified');
    expect(ev({ 'If-Match': '"x"', 'If-None-Match': '"abc"' }, 'GET')).toBe('failed');
    expect(ev({ 'If-Modified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' }, 'GET')).toBe('not-modified');
    expect(ev({ 'If-Modified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' }, 'PUT')).toBe('proceed');
    expect(ev({ 'If-None-Match': '"x"', 'If-Modified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' }, 'GET')).toBe('proceed');
    expect(ev({ 'If-Unmodified-Since': 'not a date' })).toBe('proceed');
  });

  it('refuses a malformed entity-tag list with invalid_request', () => {
    expect(parsePreconditions(new Headers({ 'If-Match': '"a,b", W/"c" ,, "d"' })).ifMatch).toEqual([
      { weak: false, opaque: 'a,b' },
      { weak: true, opaque: 'c' },
      { weak: false, opaque: 'd' },
    ]);
    for (const value of ['abc', '"a" "b"', ',', 'W/abc', 'W/', '"a', '*, "a"']) {
      expect(() => parsePreconditions(new Headers({ 'If-Match': value }))).toThrow(OAuthError);
    }
  });

  it('hands R2 only what it evaluates like §13.2.2', () => {
    const h = (init: Record<string, string>) => new Headers(init);
    expect(conditionFromHeaders(h({ 'If-Match': '"abc"' }))).toEqual({ etagMatches: 'abc' });
    expect(conditionFromHeaders(h({ 'If-Match': 'W/"abc"' }))).toBeUndefined();
    expect(conditionFromHeaders(h({ 'If-Match': '"a", "b"' }))).toBeUndefined();
    expect(conditionFromHeaders(h({ 'If-Unmodified-Since': 'Sun, 22 Nov 2026 06:00:00 GMT' }))).toBeUndefined();
  });
});
