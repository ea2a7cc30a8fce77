/**
 * Who may do what with images: which scope each action needs, and which objects a token may read or change.
 * Pure rules, no I/O. Where the token may come from (header, or `?access_token=` for a `files` token) is the
 * bearer middleware's one rule, src/middleware/bearer.ts.
 */

import type { AccessTokenClaims } from '../oauth/access-token-claims';
import type { Scope } from '../oauth/scopes';
import type { ObjectOwnership } from '../storage/files';

export type { ObjectOwnership } from '../storage/files';

export type FileAction = 'read' | 'write' | 'delete' | 'list';

/** Seeds 000/002: `files` only reads, `upload_files` only uploads, `base` does everything. */
export const SCOPES_FOR: Record<FileAction, Scope[]> = {
  read: ['files', 'base'],
  write: ['upload_files', 'base'],
  delete: ['base'],
  list: ['base'],
};

/** A token may read an object it owns, or one uploaded through its own client. */
export function mayRead(object: ObjectOwnership, claims: AccessTokenClaims): boolean {
  return object.owner === claims.sub || object.clientId === claims.client_id;
}

/** Only the owner may overwrite or delete, and only through the client namespace the object lives in. */
export function isOwner(object: ObjectOwnership, claims: AccessTokenClaims): boolean {
  return object.owner === claims.sub && object.clientId === claims.client_id;
}
