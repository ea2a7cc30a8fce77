/**
 * Where the verification keys come from: the authorization server's JWK Set (RFC 7517), found through its
 * RFC 8414 metadata unless `jwksUri` is given, fetched and cached by jose's `createRemoteJWKSet` (which reloads
 * once on an unknown `kid`, at most once per cooldown, the way the server's own key ring does). No hand-rolled JOSE.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The keys could not be obtained (network, non-200, bad JSON, wrong issuer): the server's fault, not the token's. */
export class KeySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}

export interface KeySourceOptions {
  issuer: string;
  jwksUri?: string;
  fetch?: FetchLike;
  /** ms between kid-miss reloads (jose `cooldownDuration`). */
  cooldown: number;
  /** ms a fetched JWK Set is used before it is fetched again (jose `cacheMaxAge`). */
  maxAge: number;
  /** ms before a fetch is abandoned. */
  timeout: number;
}

/** RFC 8414 §3: the well-known suffix goes between the issuer's host and its path. */
export function authorizationServerMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/** Errors that say "this token names a key we do not have", as opposed to "we could not get the keys". */
function isKeySelectionError(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JOSEAlgNotAllowed
  );
}

export function createKeySource(options: KeySourceOptions): JWTVerifyGetKey {
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined = options.jwksUri
    ? makeRemote(options.jwksUri)
    : undefined;

  function makeRemote(uri: string) {
    return createRemoteJWKSet(new URL(uri), {
      cooldownDuration: options.cooldown,
      cacheMaxAge: options.maxAge,
      timeoutDuration: options.timeout,
      [customFetch]: doFetch,
    });
  }

  /**
   * Only a successful discovery is cached, never an in-flight one: workerd does not let one request await I/O
   * started by another, so concurrent first requests each discover (as the server's key ring does).
   */
  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (remote) return remote;
    const url = authorizationServerMetadataUrl(options.issuer);
    let metadata: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await doFetch(url, {
        headers: { Accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeout),
      });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      metadata = (await res.json()) as typeof metadata;
    } catch (cause) {
      throw new KeySourceError(`The authorization server metadata at ${url} could not be read.`, { cause });
    }
    // RFC 8414 §3.3: the document's issuer MUST be identical to the issuer it was fetched for.
    if (metadata.issuer !== options.issuer) {
      throw new KeySourceError(`The authorization server metadata at ${url} names another issuer.`);
    }
    if (typeof metadata.jwks_uri !== 'string' || !/^https?:\/\//.test(metadata.jwks_uri)) {
      throw new KeySourceError(`The authorization server metadata at ${url} has no usable jwks_uri.`);
    }
    remote ??= makeRemote(metadata.jwks_uri);
    return remote;
  }

  return async function getKey(header, token) {
    const jwks = await discover();
    try {
      return await jwks(header, token);
    } catch (err) {
      if (isKeySelectionError(err)) throw err;
      throw new KeySourceError('The authorization server JWK Set could not be read.', { cause: err });
    }
  };
}
