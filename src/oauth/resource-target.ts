/**
 * The rules of RFC 8707 resource indicators, no I/O: which resources a request names, whether the client may
 * use them, which scopes go with them (scopes are per resource server), and the `aud` of the token.
 * src/services/resource-target.ts looks the resources up and calls these; docs/resource-indicators.md.
 */
import { OAuthError } from '../lib/errors';
import { canonicalResourceUri } from './resource-uri';
import { ALL_SCOPES, assertScopesAllowed, parseScope } from './scopes';

/** A registered resource server (src/storage/resource-servers.ts): the built-in /v1 or a row of resource_servers. */
export interface ResourceServer {
  /** Canonical URI (src/oauth/resource-uri.ts); for the built-in /v1, ACCESS_TOKEN_AUDIENCE as configured. */
  uri: string;
  name: string;
  /** The scopes it understands (RFC 6749 §3.3 scope-tokens). */
  scopes: string[];
  /** True for our own API (/v1), whose scopes are SCOPES and whose default scope is `base`. */
  builtin: boolean;
}

/** More resources than any client needs in one token; refused beyond. */
export const MAX_RESOURCES = 10;
/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

function invalidTarget(description: string): OAuthError {
  return new OAuthError('invalid_target', description);
}

/**
 * The `resource` values of a request (RFC 8707 §2: one or more), each in canonical form, de-duplicated in order.
 * A value that is not an absolute https URI, or has a fragment or a query, is invalid_target.
 */
export function parseResourceParams(values: readonly string[]): string[] {
  if (values.length > MAX_RESOURCES) throw invalidTarget(`At most ${MAX_RESOURCES} resource parameters are accepted.`);
  const out: string[] = [];
  for (const raw of values) {
    const r = canonicalResourceUri(raw);
    if (!r.ok) throw invalidTarget(`The resource "${raw.slice(0, 80)}" ${r.reason}.`);
    if (!out.includes(r.uri)) out.push(r.uri);
  }
  return out;
}

/**
 * The registered resource servers for `uris` (canonical), in order: an unknown one, or one outside the client's
 * `allowedResources` (null = every registered resource), is invalid_target.
 */
export function assertResourcesAllowed(
  uris: readonly string[],
  found: ReadonlyMap<string, ResourceServer>,
  allowed: readonly string[] | null | undefined,
): ResourceServer[] {
  return uris.map((uri) => {
    const rs = found.get(uri);
    if (!rs) throw invalidTarget(`The resource "${uri.slice(0, 80)}" is not registered with this server.`);
    if (allowed && !allowed.includes(uri))
      throw invalidTarget(`This client may not request tokens for the resource "${uri.slice(0, 80)}".`);
    return rs;
  });
}

/**
 * The scopes of a request for `resources` (RFC 6749 §3.3), checked per resource server:
 * - absent or empty: each resource's default (`base` for /v1, every scope of another resource server);
 * - each scope must be understood by at least one requested resource, else invalid_scope (a scope only another
 *   resource knows is refused rather than dropped, so the client learns it named the wrong resource);
 * - a /v1 scope must also be in the client's registered scopes (`clientScopes`); another resource's scopes are
 *   governed by the client's allowed resources.
 * `openScopes` are allowed to every client whatever the resource: the OpenID Connect scopes in the code flow
 * (issue 15), which are about the user, not a resource server.
 */
export function targetScopes(
  resources: readonly ResourceServer[],
  raw: string | undefined,
  clientScopes: readonly string[],
  openScopes: readonly string[] = [],
): string[] {
  // /v1 alone (no `resource`, or only /v1's): exactly the rules and messages from before issue 13.
  if (resources.length === 1 && resources[0].builtin) {
    const scopes = parseScope(raw);
    assertScopesAllowed(
      scopes.filter((s) => !openScopes.includes(s)),
      clientScopes,
      'this client',
    );
    return scopes;
  }
  const requested = raw === undefined ? [] : raw.split(' ').filter((s) => s !== '');
  if (requested.length > 32 || (raw?.length ?? 0) > 1000)
    throw new OAuthError('invalid_scope', 'The scope parameter is too long.');
  if (requested.length === 0) {
    return formatList(
      resources.flatMap((r) => (r.builtin ? ['base'].filter((s) => clientScopes.includes(s)) : r.scopes)),
    );
  }
  for (const s of requested) {
    if (!SCOPE_TOKEN.test(s)) throw new OAuthError('invalid_scope', `The scope "${s.slice(0, 40)}" is malformed.`);
    if (openScopes.includes(s)) continue;
    const owners = resources.filter((r) => r.scopes.includes(s));
    if (owners.length === 0) {
      throw new OAuthError(
        'invalid_scope',
        `The scope "${s.slice(0, 40)}" is not known to the requested resource${resources.length > 1 ? 's' : ''} (${resources.map((r) => r.uri).join(', ')}).`,
      );
    }
    if (owners.every((r) => r.builtin) && !clientScopes.includes(s))
      throw new OAuthError('invalid_scope', `The scope "${s}" is not allowed for this client.`);
  }
  return formatList(requested);
}

/** Scopes de-duplicated, ours (/v1's, then OpenID Connect's) in their canonical order first, then the others sorted. */
export function formatList(scopes: readonly string[]): string[] {
  const set = new Set(scopes);
  const own = ALL_SCOPES.filter((s) => set.has(s));
  const other = [...set].filter((s) => !(ALL_SCOPES as readonly string[]).includes(s)).sort();
  return [...own, ...other];
}

/** Only the scopes that at least one of `resources` understands (a narrowed audience narrows the scope). */
export function scopesFor(
  scopes: readonly string[],
  resources: readonly ResourceServer[],
  openScopes: readonly string[] = [],
): string[] {
  return scopes.filter((s) => openScopes.includes(s) || resources.some((r) => r.scopes.includes(s)));
}

/** RFC 8707 §2, RFC 9068 §3: `aud` is the one resource as a string, several as an array. */
export function audienceOf(uris: readonly string[]): string | string[] {
  return uris.length === 1 ? uris[0] : [...uris];
}
