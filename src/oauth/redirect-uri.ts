/**
 * Redirect URIs: what may be registered, and how a presented URI is matched. Pure functions, no I/O,
 * shared by the app portal and dynamic client registration (RFC 7591).
 *
 * Registration (RFC 9700 §2.1, RFC 8252 §7): `https` with a host; `http` only for a loopback host: the IP
 * literals `127.0.0.1` and `[::1]` (RFC 8252 §7.3), and `localhost` (issue 13: RFC 8252 §8.3 does not recommend it,
 * but the MCP authorization spec and its SDKs use `http://localhost:<port>/…` callbacks, so it has to work; it
 * matches only `localhost`, never an IP literal, so nothing is widened); or a private-use scheme for native apps
 * (RFC 8252 §7.1): in reverse-domain form (`com.example.app:/callback`) for every client, and, for a public client
 * only, a single-label app scheme such as `cursor://…` or `vscode://…` (what desktop agents register; a public
 * client gains nothing from a scheme another app could claim that it does not already risk with a loopback port,
 * and it always sees the consent page). Never a fragment
 * (RFC 6749 §3.1.2), a wildcard, user credentials or whitespace. The URI must already be in the form a
 * WHATWG URL parser serializes it to, so that we, the browser and the client's RFC 3986 parser all read
 * the same host and path (`https:evil.example/cb`, `https://app.example\@evil.example/cb` are refused).
 *
 * Matching (RFC 9700 §4.1.3): character for character, except that the port of a loopback `http` URI may
 * differ, because native apps listen on an ephemeral port (RFC 8252 §7.3); that port must be a real TCP
 * port (1–65535, no leading zero).
 */

export const MAX_REDIRECT_URI_LENGTH = 2000;

/** Schemes that run code or read local data in a browser: never a redirect target, even in dotted form. */
const DANGEROUS_SCHEMES = new Set([
  'javascript',
  'data',
  'vbscript',
  'file',
  'blob',
  'about',
  'filesystem',
  'view-source',
]);

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?].*)?$/;

/**
 * Single-label schemes that belong to the web or the system, never to one app: refused even for a public client
 * (a private-use scheme must be one the app alone handles, RFC 8252 §7.1, §8.4).
 */
const SHARED_SCHEMES = new Set([
  'ws',
  'wss',
  'ftp',
  'mailto',
  'tel',
  'sms',
  'intent',
  'market',
  'chrome',
  'edge',
  'opera',
  'resource',
  'moz-extension',
  'chrome-extension',
  'ms-settings',
  'urn',
]);

/**
 * The host and path+query of a loopback `http` URI, or null when it is not one or its port is not a TCP
 * port a native app can listen on (1–65535, written without leading zeros, RFC 8252 §7.3).
 */
function loopbackParts(uri: string): { host: string; rest: string } | null {
  const m = LOOPBACK.exec(uri);
  if (!m) return null;
  const port = m[2];
  if (port !== undefined && !/^[1-9]\d{0,4}$/.test(port)) return null;
  if (port !== undefined && Number(port) > 65535) return null;
  return { host: m[1], rest: m[3] ?? '' };
}

/**
 * Checks one redirect URI for registration. Returns null when it is acceptable, otherwise a sentence a
 * person can act on.
 */
export function validateRedirectUri(uri: string, options: { publicClient?: boolean } = {}): string | null {
  if (uri.length === 0) return 'The redirect URL is empty.';
  if (uri.length > MAX_REDIRECT_URI_LENGTH)
    return `The redirect URL is longer than ${MAX_REDIRECT_URI_LENGTH} characters.`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is this test's job.
  if (/[\s\x00-\x1f\x7f]/.test(uri)) return 'The redirect URL must not contain spaces or control characters.';
  // It goes into a Location header as is: non-ASCII characters must be percent-encoded (RFC 3986 §2.1).
  if (/[^\x21-\x7e]/.test(uri))
    return 'The redirect URL must be plain ASCII: percent-encode other characters (for example é as %C3%A9).';
  if (uri.includes('#')) return 'The redirect URL must not contain a fragment ("#…").';
  if (uri.includes('*')) return 'Wildcards ("*") are not allowed: register each redirect URL exactly.';
  if (LOOPBACK.test(uri) && !loopbackParts(uri)) {
    return 'The port of a loopback redirect URL must be a number from 1 to 65535.';
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'The redirect URL is not a valid absolute URL (it must start with https://).';
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (url.username || url.password) return 'The redirect URL must not contain a user name or password.';
  // RFC 3986 and WHATWG URL parsing disagree on some strings (a missing "//", a backslash, case, default
  // ports, dot segments): only a URI that is already in its parsed form reads the same to everyone.
  if (url.href !== uri) {
    return `The redirect URL reads differently once parsed, so register it exactly as "${url.href}".`;
  }
  if (scheme === 'https') {
    if (!url.hostname) return 'The https redirect URL has no host name.';
    return null;
  }
  if (scheme === 'http') {
    if (loopbackParts(uri)) return null;
    return 'Plain http is only allowed for loopback addresses (http://127.0.0.1, http://[::1] or http://localhost); use https.';
  }
  if (DANGEROUS_SCHEMES.has(scheme)) return `The "${scheme}:" scheme cannot be used for a redirect URL.`;
  // RFC 8252 §7.1: a private-use scheme for a public (native) client: cursor://, vscode://, an app's own name.
  if (options.publicClient && /^[a-z][a-z0-9+-]{2,}$/.test(scheme)) {
    if (SHARED_SCHEMES.has(scheme)) return `The "${scheme}:" scheme is not an app's own scheme.`;
    return null;
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name the app controls, e.g. com.example.app.
  if (!/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) {
    return 'A custom scheme for a native app must be a reverse domain name you control, such as com.example.app:/callback (RFC 8252 §7.1).';
  }
  return null;
}

/** Whether a presented redirect URI matches a registered one (exact string, loopback port excepted). */
export function redirectUriMatches(registered: string, presented: string): boolean {
  // A loopback URI with an impossible port (stored before registration refused it) never matches.
  if (registered === presented) return !LOOPBACK.test(presented) || loopbackParts(presented) !== null;
  const r = loopbackParts(registered);
  const p = loopbackParts(presented);
  // RFC 8252 §7.3: any valid port on a loopback host; host (localhost only to localhost), path and query identical.
  return r !== null && p !== null && r.host === p.host && r.rest === p.rest;
}

/** The registered URI that `presented` matches, or null. */
export function findRedirectUri(registered: readonly string[], presented: string): string | null {
  return registered.find((r) => redirectUriMatches(r, presented)) ?? null;
}
