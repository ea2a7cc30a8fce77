/**
 * The resource-server registry (migrations/0009, RFC 8707): D1 table `resource_servers`, merged with the built-in
 * entry for our own API (/v1), whose URI is ACCESS_TOKEN_AUDIENCE and so is known only at run time, per deploy.
 * A lookup of the built-in alone reads nothing; any other resource costs one D1 read per request (not cached: a
 * deleted or changed resource server counts at once, and only requests that name one pay for it).
 */
import type { Config } from '../config';
import { nowSeconds } from '../lib/clock';
import type { ResourceServer } from '../oauth/resource-target';
import { canonicalResourceUri } from '../oauth/resource-uri';
import { SCOPES } from '../oauth/scopes';

interface Row {
  uri: string;
  name: string;
  scopes: string;
  created_at: number;
  updated_at: number;
}

export interface StoredResourceServer extends ResourceServer {
  createdAt: number | null;
  updatedAt: number | null;
}

/** Our own API: `base`, `files`, `upload_files` (seeds 000/002); not a row, see the migration. */
export function builtinResource(config: Config): StoredResourceServer {
  return { uri: config.audience, name: 'API', scopes: [...SCOPES], builtin: true, createdAt: null, updatedAt: null };
}

const builtinKeys = new WeakMap<Config, string>();

/** The key the built-in is found under: the canonical form of ACCESS_TOKEN_AUDIENCE (the exact value if it has none). */
export function builtinKey(config: Config): string {
  let key = builtinKeys.get(config);
  if (key === undefined) {
    const r = canonicalResourceUri(config.audience);
    key = r.ok ? r.uri : config.audience;
    builtinKeys.set(config, key); // one URL parse per isolate, not per token (issue 17, bench/profile.mjs cc)
  }
  return key;
}

/** A row of resource_servers (as read, or as an INSERT … RETURNING * gives it back). */
export function fromRow(r: Row): StoredResourceServer {
  return {
    uri: r.uri,
    name: r.name,
    scopes: r.scopes.split(' ').filter(Boolean),
    builtin: false,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The registered resource servers among `uris` (canonical), keyed by URI; one D1 read unless only /v1 is asked. */
export async function findResourceServers(
  db: D1Database,
  config: Config,
  uris: readonly string[],
): Promise<Map<string, ResourceServer>> {
  const found = new Map<string, ResourceServer>();
  const own = builtinKey(config);
  const others = uris.filter((u) => u !== own);
  if (uris.includes(own)) found.set(own, builtinResource(config));
  if (others.length > 0) {
    const { results } = await db
      .prepare('SELECT * FROM resource_servers WHERE uri IN (SELECT value FROM json_each(?1))')
      .bind(JSON.stringify(others))
      .all<Row>();
    for (const r of results) found.set(r.uri, fromRow(r));
  }
  return found;
}

/** Every resource server, the built-in first. */
export async function listResourceServers(db: D1Database, config: Config): Promise<StoredResourceServer[]> {
  const { results } = await db.prepare('SELECT * FROM resource_servers ORDER BY uri').all<Row>();
  return [builtinResource(config), ...results.map(fromRow)];
}

export async function getResourceServer(
  db: D1Database,
  config: Config,
  uri: string,
): Promise<StoredResourceServer | null> {
  if (uri === builtinKey(config)) return builtinResource(config);
  const row = await db.prepare('SELECT * FROM resource_servers WHERE uri = ?1').bind(uri).first<Row>();
  return row ? fromRow(row) : null;
}

export function insertResourceServerStatement(
  db: D1Database,
  rs: { uri: string; name: string; scopes: string[] },
): D1PreparedStatement {
  const now = nowSeconds();
  return db
    .prepare(
      'INSERT INTO resource_servers (uri, name, scopes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (uri) DO NOTHING RETURNING *',
    )
    .bind(rs.uri, rs.name, rs.scopes.join(' '), now);
}

export function updateResourceServerStatement(
  db: D1Database,
  uri: string,
  changes: { name?: string; scopes?: string[] },
): D1PreparedStatement {
  return db
    .prepare(
      'UPDATE resource_servers SET name = COALESCE(?2, name), scopes = COALESCE(?3, scopes), updated_at = ?4 WHERE uri = ?1',
    )
    .bind(uri, changes.name ?? null, changes.scopes ? changes.scopes.join(' ') : null, nowSeconds());
}

export function deleteResourceServerStatement(db: D1Database, uri: string): D1PreparedStatement {
  return db.prepare('DELETE FROM resource_servers WHERE uri = ?1').bind(uri);
}
