/**
 * JWT access tokens, RFC 9068: `typ: at+jwt`, signed by the ring's current key (jose).
 * Stateless, so any edge location holding the JWKS verifies them without a storage read.
 */
import { SignJWT } from 'jose';
import type { Config } from '../config';
import { nowSeconds } from '../lib/clock';
import { randomToken } from '../lib/random';
import type { KeyRing } from './keyring';

export interface AccessTokenSubject {
  /** The user for user grants, the client for client_credentials (RFC 9068 §2.2). */
  sub: string;
  clientId: string;
  scope: string;
  /**
   * RFC 8707 §2, RFC 9068 §3: the resources the token is for (one → a string, several → an array); the default
   * audience (ACCESS_TOKEN_AUDIENCE, our /v1) when absent.
   */
  audience?: string | string[];
  /** A jti chosen in advance (the code grant records it before signing); random otherwise. */
  jti?: string;
  /** The refresh-token family or code grant it comes from (claim `fid`, an opaque random id, never a token). */
  fid?: string;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
  exp: number;
}

export async function issueAccessToken(
  config: Config,
  ring: KeyRing,
  subject: AccessTokenSubject,
): Promise<IssuedAccessToken> {
  const iat = nowSeconds();
  const exp = iat + config.accessTokenTtl;
  const jti = subject.jti ?? randomToken(16);
  const token = await new SignJWT({
    client_id: subject.clientId,
    scope: subject.scope,
    ...(subject.fid ? { fid: subject.fid } : {}),
  })
    .setProtectedHeader({ alg: ring.signing.alg, typ: 'at+jwt', kid: ring.signing.kid })
    .setIssuer(config.issuer)
    .setSubject(subject.sub)
    .setAudience(subject.audience ?? config.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(ring.signing.privateKey);
  return { token, jti, expiresIn: config.accessTokenTtl, exp };
}
