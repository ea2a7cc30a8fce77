/**
 * Where a `private_key_jwt` client's public keys come from: its inline `jwks`, or its `jwks_uri` fetched through
 * src/lib/safe-fetch.ts and cached per isolate. The key source is read from the client object only (client.jwks /
 * client.jwksUri), so a Client ID Metadata Document client plugs in with its document's keys.
 *
 * Remote sets follow src/tokens/keyring.ts: kept for the response's max-age (clamped), and an assertion whose `kid`
 * is not in the cached set reloads it, at most once per KID_MISS_RELOAD_SECONDS per URL, so a client that rotated
 * its key is accepted at once and a flood of unknown kids costs at most one fetch a minute.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { clock } from '../lib/clock';
import { ClientDocumentError, fetchClientDocument } from '../lib/safe-fetch';
import type { Client } from '../oauth/client';
import { MAX_JWKS_BYTES, validateClientJwks } from '../oauth/client-keys';

export const KID_MISS_RELOAD_SECONDS = 60;
/** A fetched set is kept this long without Cache-Control, and at least MIN / at most MAX whatever it says. */
const DEFAULT_TTL_SECONDS = 300;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 3600;
const FETCH_TIMEOUT_MS = 3000;
const MAX_ENTRIES = 200;

/** A failed fetch or an unusable document, said as such (never as an unknown client or a bad signature). */
export class KeySetUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`jwks_uri unavailable: ${reason}`);
    this.name = 'KeySetUnavailable';
  }
}

interface RemoteSet {
  keys: JWTVerifyGetKey;
  /** clock.now() ms after which the set is fetched again. */
  until: number;
  /** clock.now() ms of the last reload caused by an unknown kid (0: none yet). */
  kidMissAt: number;
}

const remote = new Map<string, RemoteSet>();
const local = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

/** Forgets every fetched set (tests). */
export function clearRemoteKeySets(): void {
  remote.clear();
}

async function load(uri: string, kidMissAt = 0): Promise<RemoteSet> {
  let doc: { json: unknown; maxAgeSeconds: number | null };
  try {
    doc = await fetchClientDocument(uri, { maxBytes: MAX_JWKS_BYTES, timeoutMs: FETCH_TIMEOUT_MS });
  } catch (err) {
    throw new KeySetUnavailable(err instanceof ClientDocumentError ? err.reason : 'fetch');
  }
  let set: JSONWebKeySet;
  try {
    set = validateClientJwks(doc.json, 'the jwks_uri document');
  } catch {
    throw new KeySetUnavailable('document');
  }
  const ttl = Math.min(MAX_TTL_SECONDS, Math.max(MIN_TTL_SECONDS, doc.maxAgeSeconds ?? DEFAULT_TTL_SECONDS));
  const now = clock.now();
  const entry = { keys: createLocalJWKSet(set), until: now + ttl * 1000, kidMissAt };
  remote.delete(uri);
  if (remote.size >= MAX_ENTRIES) remote.delete(remote.keys().next().value!);
  remote.set(uri, entry);
  return entry;
}

function remoteKeys(uri: string): JWTVerifyGetKey {
  return async (header, token) => {
    const now = clock.now();
    let entry = remote.get(uri);
    if (!entry || entry.until <= now) entry = await load(uri);
    try {
      return await entry.keys(header, token);
    } catch (err) {
      // The client may have rotated: one reload per minute per URL (RFC 7517 key rollover by kid).
      const miss = err instanceof errors.JWKSNoMatchingKey;
      if (!miss || now - entry.kidMissAt < KID_MISS_RELOAD_SECONDS * 1000) throw err;
      return (await load(uri, now)).keys(header, token);
    }
  };
}

/** The key lookup for jose's jwtVerify, or null when the client has no keys (it is not a private_key_jwt client). */
export function clientKeySet(client: Pick<Client, 'jwks' | 'jwksUri'>): JWTVerifyGetKey | null {
  if (client.jwks) {
    let keys = local.get(client.jwks);
    if (!keys) {
      keys = createLocalJWKSet(client.jwks);
      local.set(client.jwks, keys);
    }
    return keys;
  }
  if (client.jwksUri) return remoteKeys(client.jwksUri);
  return null;
}
