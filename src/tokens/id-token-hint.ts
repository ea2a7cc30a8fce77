/**
 * Reading an `id_token_hint` (OpenID Connect Core §3.1.2.1, RP-Initiated Logout §2): an ID token this server issued,
 * verified by signature with our ring (kid only, the key's own algorithm), issuer checked; an expired one is accepted
 * (Core: "the ID Token MAY have expired"), since the RP sends what it has.
 */
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { KeyRing } from './keyring';

export interface IdTokenHint {
  sub: string;
  aud: string[];
  sid: string | null;
}

/** The hint's claims, or null when it is not a valid ID token of ours. */
export async function readIdTokenHint(ring: KeyRing, issuer: string, token: string): Promise<IdTokenHint | null> {
  try {
    const header = decodeProtectedHeader(token);
    const key = typeof header.kid === 'string' ? ring.verify.get(header.kid) : undefined;
    if (!key || header.alg !== key.alg || header.typ !== 'JWT') return null;
    const { payload } = await compactVerify(token, key.key, { algorithms: [key.alg] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== issuer || typeof claims.sub !== 'string') return null;
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    return {
      sub: claims.sub,
      aud: aud.filter((a): a is string => typeof a === 'string'),
      sid: typeof claims.sid === 'string' ? claims.sid : null,
    };
  } catch {
    return null;
  }
}
