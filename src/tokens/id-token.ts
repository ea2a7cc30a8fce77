/**
 * OpenID Connect ID tokens (Core §2, §3.1.3.6): a JWT with `typ: JWT` (never at+jwt, so an ID token is never
 * accepted as an access token: src/tokens/verify-access-token.ts requires at+jwt), signed by the ring's key for the
 * client's `id_token_signed_response_alg` (default RS256, Core §15.1).
 */
import { base64url, SignJWT } from 'jose';
import type { Config, SigningAlg } from '../config';
import { nowSeconds } from '../lib/clock';
import { OAuthError } from '../lib/errors';
import type { Client } from '../oauth/client';
import type { KeyRing, Signer } from './keyring';

export interface IdTokenInput {
  sub: string;
  client: Client;
  /** The access token issued with it, for at_hash (Core §3.1.3.6). */
  accessToken?: string;
  nonce: string | null;
  authTime: number | null;
  sid: string | null;
  /** Claims to add (from the claims request, Core §5.5). */
  claims?: Record<string, unknown>;
}

/** The signer for a client: its registered algorithm, or RS256 (Core §15.1), or the access-token key's. */
export function idTokenSigner(ring: KeyRing, client: Client): Signer {
  const wanted = client.oidc?.id_token_signed_response_alg;
  if (wanted) {
    const signer = ring.idTokenSigners.get(wanted);
    if (!signer)
      throw new OAuthError('server_error', `No ${wanted} key is in the key ring to sign this client's ID token.`, {
        reason: 'id_token_alg_unavailable',
      });
    return signer;
  }
  return ring.idTokenSigners.get('RS256') ?? ring.signing;
}

/** The algorithms the ring can sign ID tokens with (discovery's id_token_signing_alg_values_supported). */
export function idTokenAlgs(ring: KeyRing): SigningAlg[] {
  const order: SigningAlg[] = ['RS256', 'ES256', 'EdDSA'];
  return order.filter((a) => ring.idTokenSigners.has(a));
}

/**
 * Core §3.1.3.6 at_hash: base64url of the left half of the hash of the access token's ASCII, the hash being the
 * one of the JWS alg (SHA-256 for RS256/ES256; SHA-512 for EdDSA with Ed25519).
 */
export async function tokenHash(token: string, alg: SigningAlg): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest(alg === 'EdDSA' ? 'SHA-512' : 'SHA-256', new TextEncoder().encode(token)),
  );
  return base64url.encode(digest.slice(0, digest.length / 2));
}

export async function issueIdToken(config: Config, ring: KeyRing, input: IdTokenInput): Promise<string> {
  const signer = idTokenSigner(ring, input.client);
  const iat = nowSeconds();
  const payload: Record<string, unknown> = { ...input.claims };
  if (input.nonce !== null) payload.nonce = input.nonce; // echoed exactly (Core §3.1.3.7 item 11)
  // Always sent: Core §2 makes it optional unless max_age or require_auth_time asked, and RPs may always check it.
  if (input.authTime !== null) payload.auth_time = input.authTime;
  if (input.sid !== null) payload.sid = input.sid;
  // Core §2: azp when the ID token has a single audience different from the authorized party; ours is one audience,
  // the client, so azp equals aud. Sent anyway: harmless, and some RPs (and the Basic OP plan) read it.
  payload.azp = input.client.id;
  if (input.accessToken) payload.at_hash = await tokenHash(input.accessToken, signer.alg);
  return (
    new SignJWT(payload)
      .setProtectedHeader({ alg: signer.alg, typ: 'JWT', kid: signer.kid })
      .setIssuer(config.issuer)
      .setSubject(input.sub)
      .setAudience(input.client.id)
      .setIssuedAt(iat)
      // The ID token is read once, at the code exchange; it lives as long as an access token for id_token_hint use.
      .setExpirationTime(iat + config.accessTokenTtl)
      .sign(signer.privateKey)
  );
}
