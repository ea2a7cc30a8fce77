/**
 * Client registry: D1 is the source of truth; KV is a read-through cache keyed `client:<id>`,
 * so a warm `client_credentials` request costs one KV read and no D1 query; an in-isolate copy
 * (30 s, read-through.ts) makes a hot client cost no storage round trip at all.
 */
import { nowSeconds } from '../lib/clock';
import { randomId, randomToken, sha256 } from '../lib/random';
import type { Client, ClientAuthMethod, OidcClientMetadata, RefreshTokenPolicy } from '../oauth/client';
import type { GrantType } from '../oauth/grant-types';
import type { Scope } from '../oauth/scopes';
import { readThrough } from './read-through';

export type { Client, ClientAuthMethod, RefreshTokenPolicy } from '../oauth/client';

interface ClientRow {
  id: string;
  secret_hash: string | null;
  name: string;
  site_url: string | null;
  description: string | null;
  logo_url: string | null;
  redirect_uris: string;
  grant_types: string;
  scopes: string;
  confidential: number;
  /** Migration 0006's CHECK allows no 'private_key_jwt': that method is read from jwks / jwks_uri (migration 0011). */
  token_endpoint_auth_method: Exclude<ClientAuthMethod, 'private_key_jwt'>;
  jwks: string | null;
  jwks_uri: string | null;
  require_pkce: number;
  refresh_token_policy: RefreshTokenPolicy;
  oidc_metadata?: string;
  owner_user_id: string | null;
  allowed_resources?: string | null;
  /** migrations/0010 (issue 13); set by src/storage/open-clients.ts, never by the INSERT below. */
  registered_openly?: number;
  status: 'active' | 'disabled';
  created_at: number;
  updated_at: number;
}

export function isPlausibleClientId(id: string): boolean {
  return /^[\x21-\x7e]{1,128}$/.test(id);
}

function fromRow(r: ClientRow): Client {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    name: r.name,
    siteUrl: r.site_url,
    description: r.description,
    logoUrl: r.logo_url,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    // Written only through validateClientMetadata (src/oauth/client-metadata.ts), so the members are known ones.
    grantTypes: JSON.parse(r.grant_types) as GrantType[],
    scopes: r.scopes.split(' ').filter(Boolean) as Scope[],
    confidential: r.confidential === 1,
    // Migration 0011: a client with keys authenticates with private_key_jwt, whatever the 0006 column holds.
    authMethod: r.jwks !== null || r.jwks_uri !== null ? 'private_key_jwt' : r.token_endpoint_auth_method,
    jwks: r.jwks === null ? null : (JSON.parse(r.jwks) as Client['jwks']),
    jwksUri: r.jwks_uri,
    requirePkce: r.require_pkce === 1,
    refreshTokenPolicy: r.refresh_token_policy,
    oidc: JSON.parse(r.oidc_metadata ?? '{}') as OidcClientMetadata,
    ownerUserId: r.owner_user_id,
    allowedResources: r.allowed_resources ? (JSON.parse(r.allowed_resources) as string[]) : null,
    registeredOpenly: r.registered_openly === 1,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The registered method, also for a client cached (KV, up to 5 minutes) before migration 0006 added it: those were
 * all registered under the RFC 7591 default.
 */
/** A client from a `SELECT * FROM clients` row (for a service that reads it inside its own batch). */
export function clientFromRow(row: unknown): Client {
  return fromRow(row as ClientRow);
}

export function authMethodOf(c: Client): ClientAuthMethod {
  return c.authMethod ?? (c.confidential ? 'client_secret_basic' : 'none');
}

/**
 * The refresh-token policy in force: `reuse` only for a confidential client (RFC 9700 §4.14.2: a public client's
 * refresh tokens rotate), `rotate` for a client cached (KV, up to 5 minutes) before migration 0008 added it.
 */
export function refreshPolicyOf(c: Client): RefreshTokenPolicy {
  return c.confidential && c.refreshTokenPolicy === 'reuse' ? 'reuse' : 'rotate';
}

/** Reads a client straight from D1 (no cache). */
export async function getClientFromDb(db: D1Database, id: string): Promise<Client | null> {
  const row = await db.prepare('SELECT * FROM clients WHERE id = ?1').bind(id).first<ClientRow>();
  return row ? fromRow(row) : null;
}

/**
 * Recently read clients and unknown ids, in this isolate (30 s, at most 1,000) in front of the KV copy `client:<id>`
 * (5 minutes; an unknown id's marker 1 minute); a change made through this module drops both (invalidateClient).
 */
const cache = readThrough<Client>({
  prefix: 'client:',
  load: getClientFromDb,
  memoryTtlMs: 30_000,
  memoryMaxEntries: 1000,
  copyTtlSeconds: 300,
  missTtlSeconds: 60,
  readFailed: 'client_cache_read_failed',
  writeFailed: 'client_cache_write_failed',
});

/**
 * Reads a client through the in-isolate copy, then the KV cache. Returns null for unknown ids (cached briefly too).
 * Not async: the hot path stays one async call (the cache's), as before it was factored out.
 */
export function getClient(db: D1Database, kv: KVNamespace, id: string): Promise<Client | null> {
  if (!isPlausibleClientId(id)) return Promise.resolve(null);
  return cache.get(db, kv, id);
}

/**
 * Issue 16: drops a KV copy of a client that D1 no longer has (one whose delete answered 503 because clearing the
 * cache failed after the commit). Reads first, so a refused request writes to KV only when there is a stale copy.
 */
export async function dropStaleCopy(db: D1Database, kv: KVNamespace, id: string): Promise<void> {
  if (!isPlausibleClientId(id)) return;
  if (!(await cache.storedCopy(kv, id)) || (await getClientFromDb(db, id))) return;
  await invalidateClient(kv, id);
}

/** Drops the cached copies (this isolate's and KV's); call after every change to a client. */
export function invalidateClient(kv: KVNamespace, id: string): Promise<void> {
  return cache.invalidate(kv, id);
}

export interface NewClient {
  name: string;
  siteUrl?: string | null;
  description?: string | null;
  logoUrl?: string | null;
  redirectUris?: string[];
  grantTypes: string[];
  scopes: string[];
  confidential?: boolean;
  /** Default: client_secret_basic for a confidential client (RFC 7591 §2), none for a public one. */
  authMethod?: ClientAuthMethod;
  /** private_key_jwt only (then no secret is made): the client's public keys, inline or by URL, one of the two. */
  jwks?: Client['jwks'];
  jwksUri?: string | null;
  requirePkce?: boolean;
  /** Default `rotate`; `reuse` only for a confidential client (the CHECK of migrations/0008 refuses it otherwise). */
  refreshTokenPolicy?: RefreshTokenPolicy;
  ownerUserId?: string | null;
  /** OpenID Connect metadata (migrations/0012). */
  oidc?: OidcClientMetadata;
  /** RFC 8707: the canonical URIs it may ask for (migrations/0009); null or absent = every registered resource. */
  allowedResources?: string[] | null;
  /** Fixed credentials (demo seeding only); generated otherwise. */
  id?: string;
  secret?: string;
}

/** Creates a client; returns it with the plaintext secret, which is never stored and shown only once. */
/**
 * The INSERT of a new client, for a service to batch with its audit row (src/services/create-client.ts); the id and
 * the secret are chosen here, so the caller knows them before the batch runs. Clear the cache after it ran.
 */
export async function newClientStatement(
  db: D1Database,
  input: NewClient,
  /** An SQL condition evaluated inside the batch (e.g. `changes() = 1` after the statement that must have matched). */
  onlyIf?: string,
): Promise<{ statement: D1PreparedStatement; client: Client; secret: string | null }> {
  const confidential = input.confidential ?? true;
  const id = input.id ?? randomId('cl', 16);
  // A private_key_jwt client proves itself with its keys (RFC 7523 §2.2): it has no secret to leak.
  const keyed = input.authMethod === 'private_key_jwt';
  const secret = confidential && !keyed ? (input.secret ?? randomToken(32)) : null;
  const now = nowSeconds();
  const row: ClientRow = {
    id,
    secret_hash: secret ? await sha256(secret) : null,
    name: input.name,
    site_url: input.siteUrl ?? null,
    description: input.description ?? null,
    logo_url: input.logoUrl ?? null,
    redirect_uris: JSON.stringify(input.redirectUris ?? []),
    grant_types: JSON.stringify(input.grantTypes),
    scopes: input.scopes.join(' '),
    confidential: confidential ? 1 : 0,
    token_endpoint_auth_method: !confidential
      ? 'none'
      : input.authMethod === 'client_secret_post'
        ? 'client_secret_post'
        : 'client_secret_basic',
    jwks: keyed && input.jwks ? JSON.stringify(input.jwks) : null,
    jwks_uri: keyed && !input.jwks ? (input.jwksUri ?? null) : null,
    require_pkce: input.requirePkce === false ? 0 : 1,
    refresh_token_policy: input.refreshTokenPolicy ?? 'rotate',
    oidc_metadata: JSON.stringify(input.oidc ?? {}),
    owner_user_id: input.ownerUserId ?? null,
    allowed_resources: input.allowedResources ? JSON.stringify(input.allowedResources) : null,
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  const statement = db
    .prepare(
      `INSERT INTO clients (id, secret_hash, name, site_url, description, logo_url, redirect_uris, grant_types, scopes,
        confidential, require_pkce, owner_user_id, status, created_at, updated_at, token_endpoint_auth_method, refresh_token_policy,
        jwks, jwks_uri, oidc_metadata, allowed_resources)
       ${onlyIf ? 'SELECT ' : 'VALUES ('}?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21${onlyIf ? ` WHERE ${onlyIf}` : ')'}`,
    )
    .bind(
      row.id,
      row.secret_hash,
      row.name,
      row.site_url,
      row.description,
      row.logo_url,
      row.redirect_uris,
      row.grant_types,
      row.scopes,
      row.confidential,
      row.require_pkce,
      row.owner_user_id,
      row.status,
      row.created_at,
      row.updated_at,
      row.token_endpoint_auth_method,
      row.refresh_token_policy,
      row.jwks,
      row.jwks_uri,
      row.oidc_metadata,
      row.allowed_resources,
    );
  return { statement, client: fromRow(row), secret };
}

/** Creates a client on its own (test fixtures, seeding); an operation uses src/services/create-client.ts. */
export async function createClient(
  db: D1Database,
  kv: KVNamespace,
  input: NewClient,
): Promise<{ client: Client; secret: string | null }> {
  const { statement, client, secret } = await newClientStatement(db, input);
  await statement.run();
  await invalidateClient(kv, client.id); // a cached "unknown id" marker must not outlive the creation
  return { client, secret };
}

type ChangeableFields = 'name' | 'siteUrl' | 'description' | 'logoUrl' | 'redirectUris' | 'grantTypes' | 'scopes';
export type ClientChanges = Partial<
  Pick<Client, ChangeableFields | 'requirePkce' | 'refreshTokenPolicy' | 'status' | 'oidc' | 'allowedResources'>
> & {
  /** Only between client_secret_basic and client_secret_post: public and confidential never switch. */
  authMethod?: Exclude<ClientAuthMethod, 'none'>;
  /** A private_key_jwt client's keys (it never switches to or from a secret): set one, the other becomes null. */
  keys?: { jwks: Client['jwks']; jwksUri: string | null };
};

/**
 * The UPDATE of the given fields (RETURNING *: no row when the client does not exist), for a service to batch with
 * its audit row (src/services/update-client.ts). Clear the cache after it ran (invalidateClient).
 */
export function updateClientStatement(db: D1Database, id: string, changes: ClientChanges): D1PreparedStatement {
  const columns: Record<string, unknown> = {};
  if (changes.name !== undefined) columns.name = changes.name;
  if (changes.siteUrl !== undefined) columns.site_url = changes.siteUrl;
  if (changes.description !== undefined) columns.description = changes.description;
  if (changes.logoUrl !== undefined) columns.logo_url = changes.logoUrl;
  if (changes.redirectUris !== undefined) columns.redirect_uris = JSON.stringify(changes.redirectUris);
  if (changes.grantTypes !== undefined) columns.grant_types = JSON.stringify(changes.grantTypes);
  if (changes.scopes !== undefined) columns.scopes = changes.scopes.join(' ');
  if (changes.requirePkce !== undefined) columns.require_pkce = changes.requirePkce ? 1 : 0;
  if (changes.status !== undefined) columns.status = changes.status;
  if (changes.refreshTokenPolicy !== undefined) columns.refresh_token_policy = changes.refreshTokenPolicy;
  // private_key_jwt is not a value of that column (migrations/0011): it is the keys below.
  if (changes.authMethod !== undefined && changes.authMethod !== 'private_key_jwt')
    columns.token_endpoint_auth_method = changes.authMethod;
  if (changes.keys !== undefined) {
    columns.jwks = changes.keys.jwks ? JSON.stringify(changes.keys.jwks) : null;
    columns.jwks_uri = changes.keys.jwks ? null : changes.keys.jwksUri;
  }
  if (changes.oidc !== undefined) columns.oidc_metadata = JSON.stringify(changes.oidc);
  // NULL = every registered resource (migrations/0009).
  if (changes.allowedResources !== undefined)
    columns.allowed_resources = changes.allowedResources ? JSON.stringify(changes.allowedResources) : null;
  columns.updated_at = nowSeconds();
  const names = Object.keys(columns);
  const sets = names.map((n, i) => `${n} = ?${i + 2}`).join(', ');
  return db.prepare(`UPDATE clients SET ${sets} WHERE id = ?1 RETURNING *`).bind(id, ...names.map((n) => columns[n]));
}

/**
 * A new secret for a confidential client and the UPDATE that stores its hash (RETURNING id: no row when the client is
 * gone or public), for src/services/rotate-secret.ts to batch with its audit row.
 */
export async function rotateSecretStatement(
  db: D1Database,
  id: string,
): Promise<{ statement: D1PreparedStatement; secret: string }> {
  const secret = randomToken(32);
  const statement = db
    .prepare(
      'UPDATE clients SET secret_hash = ?2, updated_at = ?3 WHERE id = ?1 AND confidential = 1 AND jwks IS NULL ' +
        'AND jwks_uri IS NULL RETURNING id',
    )
    .bind(id, await sha256(secret), nowSeconds());
  return { statement, secret };
}

/** Rotates a secret on its own (tests); an operation uses src/services/rotate-secret.ts. */
export async function rotateClientSecret(db: D1Database, kv: KVNamespace, id: string): Promise<string | null> {
  const { statement, secret } = await rotateSecretStatement(db, id);
  const row = await statement.first();
  await invalidateClient(kv, id);
  return row ? secret : null;
}

/** (Deleting a client is an operation over several tables: src/services/delete-client.ts.) */

/** The clients a user registered in the portal, newest first (straight from D1). */
export async function listClientsByOwner(db: D1Database, ownerUserId: string): Promise<Client[]> {
  const { results } = await db
    .prepare('SELECT * FROM clients WHERE owner_user_id = ?1 ORDER BY created_at DESC, id')
    .bind(ownerUserId)
    .all<ClientRow>();
  return results.map(fromRow);
}

/** Bench hook (bench/wrappers/product-bench/index.ts, cold-isolate scenarios): forget this isolate's copies, as a new isolate. */
export function forgetClientsInIsolate(): void {
  cache.forgetInIsolate();
}
