/**
 * Which image types are accepted, recognised by their bytes (magic numbers), never by the declared
 * Content-Type alone: a file is stored only if its bytes and its declared type agree.
 */

export const IMAGE_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/svg+xml',
] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** File name extension for server-chosen names (POST /v1/img). */
export const EXTENSIONS: Record<ImageType, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/svg+xml': 'svg',
};

/** How many leading bytes `sniffImageType` wants to see (SVG may open with an XML prolog and comments). */
export const SNIFF_BYTES = 1024;

/** The media type of a Content-Type header value (lower-cased, parameters dropped), or null if not ours. */
export function declaredImageType(header: string | null | undefined): ImageType | null {
  if (!header) return null;
  const type = header.split(';')[0].trim().toLowerCase();
  return (IMAGE_TYPES as readonly string[]).includes(type) ? (type as ImageType) : null;
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) =>
  b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((ch) => ch.charCodeAt(0));

/** Recognises an accepted image type from the first bytes of a file; null for anything else. */
export function sniffImageType(b: Uint8Array): ImageType | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) return 'image/webp';
  if (isAvif(b)) return 'image/avif';
  if (isSvg(b)) return 'image/svg+xml';
  return null;
}

/** ISO BMFF: a leading `ftyp` box whose major or a compatible brand is `avif` (still) or `avis` (sequence). */
function isAvif(b: Uint8Array): boolean {
  if (!startsWith(b, ascii('ftyp'), 4)) return false;
  const boxSize = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  if (boxSize < 16 || boxSize > 256 || boxSize > b.length) return false;
  const brands = [8, ...Array.from({ length: (boxSize - 16) / 4 }, (_, i) => 16 + i * 4)];
  return brands.some((at) => startsWith(b, ascii('avif'), at) || startsWith(b, ascii('avis'), at));
}

/** An SVG document: optional BOM, XML declaration, comments and doctype, then the `<svg` root element. */
function isSvg(b: Uint8Array): boolean {
  let text = new TextDecoder().decode(b.subarray(0, SNIFF_BYTES)).replace(/^\uFEFF/, '');
  for (;;) {
    text = text.trimStart();
    const skip = [
      ['<?xml', '?>'],
      ['<!--', '-->'],
      ['<!DOCTYPE svg', '>'],
    ].find(([open]) => text.startsWith(open));
    if (!skip) break;
    const end = text.indexOf(skip[1]);
    if (end < 0) return false;
    text = text.slice(end + skip[1].length);
  }
  return /^<svg[\s>]/.test(text);
}
