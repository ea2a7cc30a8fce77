/**
 * Reading `application/x-www-form-urlencoded` OAuth requests strictly (RFC 6749 §3.2, §2.3.1):
 * bounded size, valid UTF-8, no repeated parameter, empty values treated as omitted (§3.1).
 */
import { OAuthError } from './errors';

/** Far above any legitimate token request; larger bodies are refused before parsing. */
export const MAX_FORM_BYTES = 16 * 1024;

export type Params = Map<string, string>;

/** Parameters that must never travel in a URL, where logs and Referer headers would keep them. */
const CREDENTIAL_PARAMS = ['client_secret', 'password', 'refresh_token', 'code', 'code_verifier', 'token', 'client_assertion'];

function invalid(description: string, status = 400): OAuthError {
  return new OAuthError('invalid_request', description, { status });
}

/** Parses a urlencoded string into a map, refusing repeats and invalid percent-encoded UTF-8. */
export function parseUrlEncoded(text: string, where: string): Params {
  const params: Params = new Map();
  if (text === '') return params;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = decodeComponent(rawName, where);
    const value = decodeComponent(rawValue, where);
    if (value === '') continue; // RFC 6749 §3.1: a parameter without a value is as if omitted
    if (params.has(name)) {
      throw invalid(`The parameter "${name.slice(0, 40)}" is repeated in the ${where}; send each parameter once.`);
    }
    params.set(name, value);
  }
  return params;
}

function decodeComponent(raw: string, where: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw invalid(`The ${where} is not valid application/x-www-form-urlencoded UTF-8.`);
  }
}

/** Fatal: invalid UTF-8 throws. Stateless between calls (no `stream` option), so one instance serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function notUtf8(): OAuthError {
  return invalid('The request body is not valid UTF-8.');
}

/** Reads the body as text with a hard size limit, whatever Content-Length claims; invalid UTF-8 is refused. */
async function readLimitedText(req: Request, limit: number): Promise<string> {
  const lengthHeader = req.headers.get('Content-Length');
  const declared = Number(lengthHeader ?? '0');
  if (declared > limit) throw invalid(`The request body is larger than ${limit} bytes.`, 413);
  if (!req.body) return '';
  if (lengthHeader !== null && /^\d+$/.test(lengthHeader)) {
    // A declared length within the limit: the runtime frames the body by it (RFC 9112 §6.3), so one native read is
    // bounded. text() is workerd's cheapest read (arrayBuffer() plus a decode cost ~50 µs more per request,
    // docs/benchmarks.md); it turns invalid UTF-8 into U+FFFD, which a form body never holds raw, since the
    // urlencoded serializer percent-encodes every non-ASCII byte (WHATWG URL §5.2), so U+FFFD is refused as invalid.
    const text = await req.text();
    if (text.length > limit) throw invalid(`The request body is larger than ${limit} bytes.`, 413); // UTF-16 units ≤ bytes
    if (text.includes('\uFFFD')) throw notUtf8();
    return text;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw invalid(`The request body is larger than ${limit} bytes.`, 413);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return UTF8.decode(body);
  } catch {
    throw notUtf8();
  }
}

/**
 * The request's parameters: body (urlencoded only) merged with the query string.
 * The query may repeat a body parameter with the same value (seed 000 repeats grant_type=password in the URL);
 * a different value, or a credential in the query, is invalid_request.
 */
export async function readFormRequest(req: Request): Promise<Params> {
  const contentType = (req.headers.get('Content-Type') ?? '').toLowerCase();
  const [mediaType, ...ctParams] = contentType.split(';').map((s) => s.trim());
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw invalid('Send the parameters as application/x-www-form-urlencoded in the request body.');
  }
  const charset = ctParams.find((p) => p.startsWith('charset='));
  if (charset && !['charset=utf-8', 'charset="utf-8"'].includes(charset)) {
    throw invalid('Only UTF-8 request bodies are accepted.');
  }
  const body = parseUrlEncoded(await readLimitedText(req, MAX_FORM_BYTES), 'request body');
  if (!req.url.includes('?')) return body; // no query string: no URL to parse
  const query = parseUrlEncoded(new URL(req.url).search.slice(1), 'query string');
  for (const [name, value] of query) {
    if (CREDENTIAL_PARAMS.includes(name)) {
      throw invalid(`Do not put "${name}" in the URL; send it in the application/x-www-form-urlencoded request body.`);
    }
    const inBody = body.get(name);
    if (inBody === undefined) body.set(name, value);
    else if (inBody !== value) {
      throw invalid(`The parameter "${name.slice(0, 40)}" has different values in the query string and the body; send it once, in the body.`);
    }
  }
  return body;
}
