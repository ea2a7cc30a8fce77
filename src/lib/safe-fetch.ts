/**
 * The one fetcher for documents a client names (Client ID Metadata Documents, `jwks_uri`): every URL comes from
 * someone we do not trust, so the fetch must not become a way to reach what only this server can reach (SSRF,
 * draft-ietf-oauth-client-id-metadata-document "Server-Side Request Forgery (SSRF) Attacks"; RFC 7591 §5).
 *
 * The rules, all checked on the URL as the WHATWG parser serializes it (the form the runtime will connect to, so
 * `http://2130706433/`, `0x7f.1` and `[::ffff:127.0.0.1]` are judged as the `127.0.0.1` / `[::ffff:7f00:1]` they
 * become):
 * - `https` only, no user name or password, no fragment; there is no switch that allows `http`, not even for tests
 *   (they intercept the outbound fetch instead).
 * - No IP literal in a loopback, private, link-local, unique-local, CGNAT, multicast, unspecified, documentation,
 *   reserved or cloud-metadata range (IPv4, IPv6, and IPv4 embedded in IPv6: mapped, compatible, NAT64, 6to4).
 * - No name that only means something inside a network: `localhost` and `*.localhost`, single-label names, and the
 *   special-use or de-facto internal suffixes (`.local`, `.internal`, `.home.arpa`, `.lan`, …).
 * - No redirect is followed (`redirect: 'manual'`, any 3xx refused): a redirect could lead anywhere, and the CIMD
 *   draft has the server use the document at the URL itself. Only a 200 is a document.
 * - `Content-Type: application/json`, the body read as a stream and cut off at `maxBytes`, the whole exchange bounded
 *   by `AbortSignal.timeout(timeoutMs)`.
 * - A cache lifetime from `Cache-Control: max-age` (`no-store`/`no-cache` → the floor), clamped to a floor and a
 *   ceiling by the caller's cache.
 *
 * What a Worker cannot check: the addresses a name resolves to. Workers have no DNS API, and `fetch()` resolves and
 * connects inside Cloudflare's network, whose egress reaches the public Internet only, never the private network of
 * the Worker's operator (there is none behind a Worker), so a public name pointing at 10.0.0.1 or 127.0.0.1 reaches
 * nothing of ours. A deployment that adds a path to private services (Workers VPC, Tunnel, service bindings) keeps
 * those behind bindings, which `fetch()` on a URL never uses. docs/security.md states this limit.
 */
import { type BodyErrors, BoundedBody, concatBytes, declaredLength, decodeUtf8 } from './body';
import { OAuthError } from './errors';

/** Why a client's document could not be used; `reason` is one sentence fit for an error page or error_description. */
export class ClientDocumentError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ClientDocumentError';
  }
}

export interface FetchedDocument {
  json: unknown;
  /** From Cache-Control max-age; null when the response says nothing (or forbids caching: then 0). */
  maxAgeSeconds: number | null;
}

/** Names that resolve only inside a network (RFC 6761 §6.3, RFC 6762 .local, RFC 8375 .home.arpa, ICANN .internal). */
const INTERNAL_SUFFIXES = [
  'localhost',
  'local',
  'internal',
  'home.arpa',
  'localdomain',
  'lan',
  'intranet',
  'corp',
  'home',
  'private',
  'test',
  'invalid',
  'example',
  'onion',
];

/** IPv4 ranges that are not the public Internet (RFC 6890 special-purpose registry), as [network, prefix length]. */
const BLOCKED_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8 "this network", 0.0.0.0 unspecified
  [0x0a000000, 8], // 10/8 private (RFC 1918)
  [0x64400000, 10], // 100.64/10 CGNAT (RFC 6598)
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local, incl. 169.254.169.254 cloud metadata
  [0xac100000, 12], // 172.16/12 private
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0000200, 24], // 192.0.2/24 documentation
  [0xc0586300, 24], // 192.88.99/24 6to4 relay anycast
  [0xc0a80000, 16], // 192.168/16 private
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xc6336400, 24], // 198.51.100/24 documentation
  [0xcb007100, 24], // 203.0.113/24 documentation
  [0xe0000000, 4], // 224/4 multicast
  [0xf0000000, 4], // 240/4 reserved, 255.255.255.255 broadcast
];

function v4Blocked(n: number): boolean {
  return BLOCKED_V4.some(([net, prefix]) => n >>> (32 - prefix) === net >>> (32 - prefix));
}

/** A dotted-quad (as the WHATWG parser writes every IPv4 form) as a number, or null. */
function parseV4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** The eight 16-bit groups of a bracketed IPv6 literal (WHATWG-serialized: lower case, `::` compressed, hex only). */
function parseV6(host: string): number[] | null {
  if (!host.startsWith('[') || !host.endsWith(']')) return null;
  const text = host.slice(1, -1);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const groups = (s: string) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === null ? [] : groups(tail);
  const fill = tail === null ? 0 : 8 - h.length - t.length;
  const all = [...h, ...new Array(fill).fill(0), ...t];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : null;
}

function v6Blocked(g: number[]): boolean {
  const v4At = (i: number) => ((g[i] << 16) | g[i + 1]) >>> 0;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return true; // :: unspecified
  if (zeros(0, 7) && g[7] === 1) return true; // ::1 loopback
  // ::ffff:0:0/96 IPv4-mapped: a public IPv4 server is named by its IPv4 form; a mapped literal only hides one.
  if (zeros(0, 5) && g[5] === 0xffff) return true;
  if (zeros(0, 6)) return true; // ::/96 IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4Blocked(v4At(6)); // 64:ff9b::/96 NAT64 (RFC 6052)
  if (g[0] === 0x2002) return v4Blocked(v4At(1)); // 2002::/16 6to4 carries an IPv4 address
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local (incl. fd00:ec2::254 metadata)
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // 2001:db8::/32 documentation
  if (g[0] === 0x0100 && zeros(1, 4)) return true; // 100::/64 discard
  if (g[0] === 0x2001 && g[1] < 0x0200) return true; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, …)
  return false;
}

/**
 * Why `url` may not be fetched, or null when it may. Pure (no I/O), so every SSRF target is unit-tested on it.
 * `url` is parsed here; what is judged is the parsed, normalised host.
 */
export function refusedUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'the address is not a valid URL';
  }
  if (u.protocol !== 'https:') return 'the address must use https';
  if (u.username || u.password) return 'the address must not contain a user name or password';
  if (u.hash || url.includes('#')) return 'the address must not contain a fragment';
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (!host) return 'the address has no host';
  const v4 = parseV4(host);
  if (v4 !== null) return v4Blocked(v4) ? 'the address points at a private, loopback or reserved IP address' : null;
  if (host.startsWith('[')) {
    const v6 = parseV6(host);
    if (v6 === null) return 'the address has a malformed IPv6 host';
    return v6Blocked(v6) ? 'the address points at a private, loopback or reserved IP address' : null;
  }
  if (!host.includes('.')) return 'the address must name a public host (a single-label name is internal)';
  if (INTERNAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) {
    return 'the address names a host that exists only inside a private network';
  }
  return null;
}

/** Cache-Control max-age in seconds (0 for no-store/no-cache), or null when absent (RFC 9111 §5.2.2). */
export function maxAgeOf(header: string | null): number | null {
  if (!header) return null;
  const directives = header
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d === 'private')) return 0;
  for (const d of directives) {
    const m = /^max-age=("?)(\d{1,10})\1$/.exec(d);
    if (m) return Number(m[2]);
  }
  return null;
}

/** The body errors, naming what was fetched ("the document", "the image"). */
const bodyErrors = (what: string): BodyErrors => ({
  tooLarge: (limit) => new OAuthError('invalid_request', `${what} is larger than ${limit} bytes`),
  incomplete: () => new OAuthError('invalid_request', `${what} broke off before it was complete`),
});
const BODY_ERRORS = bodyErrors('the document');

const isTimeout = (err: unknown) => err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/**
 * The GET under the rules above, up to a 200 (any other status, a redirect included, is refused). Its timeout bounds
 * the whole exchange: the signal aborts the body's stream too, so the caller's read of it stops at the same deadline.
 */
async function openPublic(
  url: string,
  label: string,
  options: { timeoutMs: number; accept: string },
): Promise<Response> {
  const refused = refusedUrl(url);
  if (refused) throw new ClientDocumentError(`${label} at ${url.slice(0, 200)} cannot be fetched: ${refused}.`);
  const where = `${label} at ${url}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      headers: { Accept: options.accept },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new ClientDocumentError(
      isTimeout(err)
        ? `${where} did not answer within ${options.timeoutMs} ms.`
        : `${where} could not be fetched (the host did not answer).`,
    );
  }
  const drop = () => res.body?.cancel().catch(() => {});
  if (res.status >= 300 && res.status < 400) {
    drop();
    throw new ClientDocumentError(
      `${where} answered with a redirect (HTTP ${res.status}); redirects are not followed.`,
    );
  }
  if (res.status !== 200) {
    drop();
    throw new ClientDocumentError(`${where} answered HTTP ${res.status} instead of 200.`);
  }
  return res;
}

/**
 * Fetches the JSON document at `url` under the rules above. Throws ClientDocumentError (never anything else for a
 * bad URL, a bad answer or a timeout).
 */
export async function fetchClientDocument(
  url: string,
  options: { maxBytes: number; timeoutMs: number },
): Promise<FetchedDocument> {
  const where = `The document at ${url}`;
  const res = await openPublic(url, 'The document', { timeoutMs: options.timeoutMs, accept: 'application/json' });
  const type = (res.headers.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    res.body?.cancel().catch(() => {});
    throw new ClientDocumentError(`${where} is not served as application/json (Content-Type "${type.slice(0, 60)}").`);
  }
  let text: string;
  try {
    const bytes = await readCappedBytes(res, options.maxBytes, BODY_ERRORS);
    const decoded = decodeUtf8(bytes);
    if (decoded === null) throw new OAuthError('invalid_request', 'the document is not UTF-8 text');
    text = decoded;
  } catch (err) {
    throw readFailure(err, where, options.timeoutMs);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientDocumentError(`${where} is not valid JSON.`);
  }
  return { json, maxAgeSeconds: maxAgeOf(res.headers.get('Cache-Control')) };
}

/**
 * Fetches the bytes at a URL someone else names (an image an MCP client asks to upload from a URL, issue 14 part 3:
 * examples/mcp-server/tools.ts) under the same rules: https only, no private or internal host, no redirect, only a
 * 200, at most `maxBytes` counted while streaming, the whole exchange within `timeoutMs`. What the bytes are is the
 * caller's rule (an image's magic number). `what` names it in the messages ("image"). Throws ClientDocumentError.
 */
export async function fetchPublicBytes(
  url: string,
  options: { maxBytes: number; timeoutMs: number; accept: string; what: string },
): Promise<{ bytes: Uint8Array; contentType: string | null }> {
  const where = `The ${options.what} at ${url}`;
  const res = await openPublic(url, `The ${options.what}`, { timeoutMs: options.timeoutMs, accept: options.accept });
  try {
    const bytes = await readCappedBytes(res, options.maxBytes, bodyErrors(`the ${options.what}`));
    return { bytes, contentType: res.headers.get('Content-Type') };
  } catch (err) {
    throw readFailure(err, where, options.timeoutMs);
  }
}

/** What a failed body read tells the caller: the cap or the encoding (an OAuthError), the deadline, or a cut. */
function readFailure(err: unknown, where: string, timeoutMs: number): ClientDocumentError {
  if (err instanceof OAuthError) return new ClientDocumentError(`${where} cannot be used: ${err.description}.`);
  return new ClientDocumentError(
    isTimeout(err) ? `${where} did not arrive within ${timeoutMs} ms.` : `${where} broke off while being read.`,
  );
}

/** The body, at most `limit` bytes, counted while streaming (src/lib/body.ts BoundedBody). */
async function readCappedBytes(res: Response, limit: number, errors: BodyErrors): Promise<Uint8Array> {
  let declared: number | null = null;
  try {
    declared = declaredLength(res.headers);
  } catch {
    declared = null;
  }
  if (declared !== null && declared > limit) {
    res.body?.cancel().catch(() => {});
    throw errors.tooLarge(limit);
  }
  if (!res.body) return new Uint8Array(0);
  const body = new BoundedBody(res.body, limit, null, errors);
  const chunks: Uint8Array[] = [];
  for (let chunk = await body.next(); chunk !== null; chunk = await body.next()) chunks.push(chunk);
  return concatBytes(chunks, body.received);
}
