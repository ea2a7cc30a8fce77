/**
 * The `sub` a client sees (OpenID Connect Core §8): the user id for `public` clients; for `pairwise` ones a value
 * derived per sector (§8.1): HMAC-SHA-256 under a subkey of KEY_ENCRYPTION_KEY of "sector | user id", so two
 * clients of different sectors cannot correlate a user, and the value is stable without storage.
 * Access tokens keep the real user id as `sub`: they are for this server's API, whose data is keyed by it
 * (docs/openid-connect.md); ID tokens and UserInfo use this function.
 */
import { base64url } from 'jose';
import type { Config } from '../config';
import { subkey } from '../lib/key-encryption';
import type { Client } from './client';

/** The sector of a client (Core §8.1): the host of its sector_identifier_uri, else of its (single-host) redirect URIs. */
export function sectorOf(client: Client): string {
  const uri = client.oidc?.sector_identifier_uri ?? client.redirectUris[0] ?? client.id;
  try {
    return new URL(uri).host || uri;
  } catch {
    return uri;
  }
}

export async function subjectFor(config: Config, client: Client, userId: string): Promise<string> {
  if (client.oidc?.subject_type !== 'pairwise') return userId;
  const key = await crypto.subtle.importKey(
    'raw',
    await subkey(config.keyEncryptionKey, 'pairwise-subject'),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${sectorOf(client)}|${userId}`));
  return base64url.encode(new Uint8Array(mac));
}
