/**
 * Who may do what with images: where the token may come from, which scope each action needs, and
 * which objects a token may read or change. Pure rules, no I/O.
 */
import { bearerFromHeader } from '../middleware/bearer';
import { bearerError } from '../oauth/errors';
import type { Scope } from '../oauth/scopes';
import { tokenScopes, type AccessTokenClaims } from '../tokens/verify-access-token';

export type FileAction = 'read' | 'write' | 'delete' | 'list';

/** Seeds 000/002: `files` only reads, `upload_files` only uploads, `base` does everything. */
export const SCOPES_FOR: Record<FileAction, Scope[]> = {
  read: ['files', 'base'],
  write: ['upload_files', 'base'],
  delete: ['base'],
  list: ['base'],
};

export interface PresentedToken {
  token: string;
  /** True when the token came from `?access_token=` (RFC 6750 §2.3). */
  fromQuery: boolean;
}

/**
 * The access token from `Authorization: Bearer` or the `access_token` query parameter.
 * RFC 6750 §2: a client MUST NOT use more than one method, so both is invalid_request; no token at
 * all gets the bare challenge (§3.1).
 */
export function presentedToken(authorization: string | undefined, url: URL, action: FileAction): PresentedToken {
  const fromHeader = bearerFromHeader(authorization);
  const fromQuery = url.searchParams.getAll('access_token');
  if (fromQuery.length > 1) throw bearerError('invalid_request', 'The access_token parameter is repeated.');
  if (fromHeader && fromQuery.length === 1) {
    throw bearerError('invalid_request', 'Send the access token either in the Authorization header or in the access_token parameter, not both.');
  }
  if (fromHeader) return { token: fromHeader, fromQuery: false };
  if (fromQuery.length === 1 && fromQuery[0] !== '') return { token: fromQuery[0], fromQuery: true };
  throw bearerError(null, 'An access token is required.', { scope: SCOPES_FOR[action].join(' ') });
}

/**
 * The scope rule. A token in a URL leaks through logs, history and Referer, so only a token whose scope is
 * exactly `files` (read-only, safe to expose) is accepted there; a `base` or `upload_files` token in a URL
 * is refused as invalid_token (401), telling the client what to request instead.
 */
export function assertFileScope(claims: AccessTokenClaims, fromQuery: boolean, action: FileAction): void {
  const scopes = tokenScopes(claims);
  if (fromQuery && !(scopes.length === 1 && scopes[0] === 'files')) {
    throw bearerError(
      'invalid_token',
      'Only a token with scope "files" alone may be sent in the URL; request one with scope=files for image URLs, and send other tokens in the Authorization header.',
      { scope: 'files' },
    );
  }
  const needed = SCOPES_FOR[action];
  if (!scopes.some((s) => (needed as string[]).includes(s))) {
    throw bearerError('insufficient_scope', `This request needs the scope ${needed.map((s) => `"${s}"`).join(' or ')}.`, {
      scope: needed.join(' '),
    });
  }
}

/** What every object records about its upload (R2 customMetadata). */
export interface ObjectOwnership {
  /** `sub` of the uploading token: a user id, or the client id for client_credentials. */
  owner: string;
  /** `client_id` of the uploading token. */
  clientId: string;
}

/** A token may read an object it owns, or one uploaded through its own client. */
export function mayRead(object: ObjectOwnership, claims: AccessTokenClaims): boolean {
  return object.owner === claims.sub || object.clientId === claims.client_id;
}

/** Only the owner may overwrite or delete, and only through the client namespace the object lives in. */
export function isOwner(object: ObjectOwnership, claims: AccessTokenClaims): boolean {
  return object.owner === claims.sub && object.clientId === claims.client_id;
}
