// One jose-signed ES256 JWT of the same header and claims as the product's client_credentials token
// (src/tokens/access-token.ts), with the product's own signing key (SIGNING_KEYS), and its token response body.
// Shared by the two signing floors: bench/baselines/sign-floor (no framework) and bench/baselines/hono-floor (Hono).
import { importJWK, SignJWT } from 'jose';

let key; // imported once per isolate, as the product's key ring does

export async function tokenResponseBody(env) {
  if (!key) {
    const jwk = JSON.parse(env.SIGNING_KEYS).keys[0];
    key = { kid: jwk.kid, alg: jwk.alg, key: await importJWK(jwk, jwk.alg) };
  }
  const iat = Math.floor(Date.now() / 1000);
  const jti = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  const token = await new SignJWT({ client_id: 'cl_bench', scope: 'base' })
    .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
    .setIssuer(env.ISSUER)
    .setSubject('cl_bench')
    .setAudience(env.ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .setJti(jti)
    .sign(key.key);
  return { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'base' };
}
