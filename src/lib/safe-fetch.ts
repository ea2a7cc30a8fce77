/**
 * Fetching a document a client names (a `jwks_uri`; Client ID Metadata Documents): https only, no redirects, a size
 * cap and a timeout, JSON only, and the response's cache lifetime for the caller's cache.
 *
 * Minimal version written for private_key_jwt (issue 13); the `agents` work brings the full SSRF-safe fetcher with
 * the same signature (private, loopback and link-local targets refused), which replaces this file at merge.
 */

/** Why a fetch failed, for the log and for a clear error to the client (never "unknown client"). */
export class ClientDocumentError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientDocumentError';
  }
}

/** Hostnames that are never fetched whatever DNS says (the full version also checks resolved addresses). */
const REFUSED_HOSTS = /^(localhost|.*\.localhost|.*\.local|.*\.internal|\[.*\]|\d+\.\d+\.\d+\.\d+)$/i;

function maxAge(cacheControl: string | null): number | null {
  if (!cacheControl) return null;
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return 0;
  const m = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return m ? Number(m[2]) : null;
}

/** Fetches `url` as JSON; throws ClientDocumentError (reason: url, status, redirect, size, timeout, json, network). */
export async function fetchClientDocument(
  url: string,
  options: { maxBytes: number; timeoutMs: number },
): Promise<{ json: unknown; maxAgeSeconds: number | null }> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ClientDocumentError('url', 'The URL is not valid.');
  }
  if (target.protocol !== 'https:' || target.username || target.password || REFUSED_HOSTS.test(target.hostname))
    throw new ClientDocumentError('url', 'Only https URLs of public hosts are fetched.');

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(target.href, {
        method: 'GET',
        headers: { Accept: 'application/json' },
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch {
      throw controller.signal.aborted
        ? new ClientDocumentError('timeout', `The document did not arrive within ${options.timeoutMs} ms.`)
        : new ClientDocumentError('network', 'The document could not be fetched.');
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new ClientDocumentError('redirect', 'The document URL redirects; redirects are not followed.');
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new ClientDocumentError('status', `The document URL answered HTTP ${res.status}.`);
    }
    const declared = Number(res.headers.get('Content-Length') ?? '0');
    if (declared > options.maxBytes) {
      await res.body?.cancel();
      throw new ClientDocumentError('size', `The document is larger than ${options.maxBytes} bytes.`);
    }
    const bytes = await readCapped(res, options.maxBytes, controller.signal, options.timeoutMs);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      throw new ClientDocumentError('json', 'The document is not JSON.');
    }
    return { json, maxAgeSeconds: maxAge(res.headers.get('Cache-Control')) };
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  res: Response,
  maxBytes: number,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new ClientDocumentError('size', `The document is larger than ${maxBytes} bytes.`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ClientDocumentError) throw err;
    throw signal.aborted
      ? new ClientDocumentError('timeout', `The document did not arrive within ${timeoutMs} ms.`)
      : new ClientDocumentError('network', 'The document could not be read.');
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
