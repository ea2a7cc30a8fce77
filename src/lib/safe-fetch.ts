/**
 * A minimal SSRF-conscious fetcher for documents a client names (issue 15's sector_identifier_uri). The `agents`
 * helper owns the fuller version of this file (private/loopback targets refused, caching); this one has the same
 * signature: https only, no redirects, a size cap counted while reading, a timeout, JSON only.
 */
import { readBodyBytes } from './body';

export class ClientDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientDocumentError';
  }
}

const LOOPBACK_OR_PRIVATE = /^(localhost|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.|\[)/i;

export async function fetchClientDocument(
  url: string,
  options: { maxBytes: number; timeoutMs: number },
): Promise<{ json: unknown; maxAgeSeconds: number | null }> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ClientDocumentError('The URL is not valid.');
  }
  if (target.protocol !== 'https:') throw new ClientDocumentError('Only https URLs are fetched.');
  if (LOOPBACK_OR_PRIVATE.test(target.hostname)) throw new ClientDocumentError('The URL names a private address.');
  let res: Response;
  try {
    res = await fetch(target.toString(), {
      redirect: 'manual',
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch {
    throw new ClientDocumentError('The document could not be fetched (network error or timeout).');
  }
  if (res.status !== 200) throw new ClientDocumentError(`The document answered HTTP ${res.status}, not 200.`);
  let text: string;
  try {
    // The same bounded reader as request bodies (it reads only `headers` and `body`): the cap is counted while reading.
    const bytes = await readBodyBytes(res as unknown as Request, options.maxBytes);
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ClientDocumentError(`The document is larger than ${options.maxBytes} bytes or not UTF-8.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientDocumentError('The document is not JSON.');
  }
  const m = /max-age=(\d+)/.exec(res.headers.get('Cache-Control') ?? '');
  return { json, maxAgeSeconds: m ? Number(m[1]) : null };
}
