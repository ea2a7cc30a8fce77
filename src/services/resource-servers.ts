/**
 * Registering, changing and removing resource servers (issue 13): each one D1 batch with its audit row, written
 * only when the change matched (auditStatementIf). The built-in /v1 is not a row and cannot be changed here.
 */
import type { Config } from '../config';
import { OAuthError } from '../lib/errors';
import { auditStatementIf } from '../storage/audit';
import {
  builtinKey,
  deleteResourceServerStatement,
  fromRow,
  insertResourceServerStatement,
  type StoredResourceServer,
  updateResourceServerStatement,
} from '../storage/resource-servers';

const notBuiltin = (config: Config, uri: string) => {
  if (uri === builtinKey(config))
    throw new OAuthError('invalid_request', 'This is the server’s own API (ACCESS_TOKEN_AUDIENCE); it is built in.', {
      status: 409,
    });
};

export async function createResourceServer(
  db: D1Database,
  config: Config,
  rs: { uri: string; name: string; scopes: string[] },
  requestId?: string,
): Promise<StoredResourceServer | null> {
  notBuiltin(config, rs.uri);
  const [insert] = await db.batch<Parameters<typeof fromRow>[0]>([
    insertResourceServerStatement(db, rs),
    auditStatementIf(
      db,
      'resource_server_created',
      { actor: 'admin', subject: rs.uri, detail: { scopes: rs.scopes }, requestId },
      { sql: 'changes() = 1', params: [] },
    ),
  ]);
  // The row comes back from the INSERT itself (RETURNING): no read after the commit that could fail once the server
  // is registered and turn the operator's retry into a 409 (issue 16).
  const row = insert.results[0];
  return row ? fromRow(row) : null;
}

export async function updateResourceServer(
  db: D1Database,
  config: Config,
  uri: string,
  changes: { name?: string; scopes?: string[] },
  requestId?: string,
): Promise<boolean> {
  notBuiltin(config, uri);
  const [update] = await db.batch([
    updateResourceServerStatement(db, uri, changes),
    auditStatementIf(
      db,
      'resource_server_updated',
      { actor: 'admin', subject: uri, detail: { ...changes }, requestId },
      { sql: 'changes() = 1', params: [] },
    ),
  ]);
  return update.meta.changes === 1;
}

/** Existing tokens for the resource keep their `aud` until they expire; refreshes no longer name it. */
export async function deleteResourceServer(
  db: D1Database,
  config: Config,
  uri: string,
  requestId?: string,
): Promise<boolean> {
  notBuiltin(config, uri);
  const [del] = await db.batch([
    deleteResourceServerStatement(db, uri),
    auditStatementIf(
      db,
      'resource_server_deleted',
      { actor: 'admin', subject: uri, requestId },
      {
        sql: 'changes() = 1',
        params: [],
      },
    ),
  ]);
  return del.meta.changes === 1;
}
