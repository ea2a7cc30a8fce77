/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5–4.6) and the RFC 9700 rules: the code is consumed by one atomic
 * statement, a replay revokes what the code issued (§4.1.2), and a code_verifier for a code issued without
 * a challenge is refused (PKCE downgrade, RFC 9700 §4.8.2). Cost: one KV read (client) and one D1 batch.
 */
import { nowSeconds } from '../../lib/clock';
import { OAuthError } from '../../lib/errors';
import { randomToken } from '../../lib/random';
import { allValues } from '../../oauth/form';
import { isValidVerifier, s256 } from '../../oauth/pkce';
import { audienceOf, scopesFor } from '../../oauth/resource-target';
import { audit } from '../../storage/audit';
import { type RedemptionResult, redeemCode } from '../../storage/authorization-codes';
import { builtinKey } from '../../storage/resource-servers';
import { revocationsChanged } from '../../storage/revocations';
import { issueAccessToken } from '../../tokens/access-token';
import { audienceForKeys, grantedKeys, resolveResources } from '../resource-target';
import { assertGrantAllowed, mayRefresh, requireParam } from './common';
import { idTokenForCode } from './id-token-for-code';
import type { GrantHandler } from './types';

type Failure = Extract<RedemptionResult, { ok: false }>['reason'];

const FAILURES: Record<Failure, [code: 'invalid_grant' | 'invalid_request' | 'invalid_target', description: string]> = {
  unknown: ['invalid_grant', 'The authorization code is invalid.'],
  wrong_client: ['invalid_grant', 'The authorization code was not issued to this client.'],
  replayed: ['invalid_grant', 'The authorization code was already used; the tokens issued from it have been revoked.'],
  expired: ['invalid_grant', 'The authorization code has expired; start the authorization again.'],
  redirect_uri_missing: [
    'invalid_request',
    'The "redirect_uri" parameter is required: it was sent in the authorization request (RFC 6749 §4.1.3).',
  ],
  redirect_uri_mismatch: [
    'invalid_grant',
    'The redirect_uri differs from the one the authorization code was issued for.',
  ],
  verifier_missing: [
    'invalid_grant',
    'The "code_verifier" parameter is required: the authorization request used PKCE.',
  ],
  verifier_mismatch: [
    'invalid_grant',
    'The code_verifier does not match the code_challenge of the authorization request.',
  ],
  downgrade: ['invalid_grant', 'A code_verifier was sent, but the authorization request had no code_challenge.'],
  user_inactive: ['invalid_grant', 'The user who approved this request is disabled.'],
  // RFC 8707 §2: the token request may narrow to resources of the authorization request, never add one.
  target_not_granted: [
    'invalid_target',
    'The authorization code was not issued for the requested resource; ask for one the authorization request named.',
  ],
};

export const authorizationCodeGrant: GrantHandler = async ({ env, config, ring, params, caller, requestId }) => {
  const { client } = caller;
  assertGrantAllowed(client, 'authorization_code');
  const code = requireParam(params, 'code');
  if (code.length > 128) throw new OAuthError('invalid_grant', FAILURES.unknown[1]);
  const verifier = params.get('code_verifier');
  if (verifier !== undefined && !isValidVerifier(verifier)) {
    throw new OAuthError(
      'invalid_request',
      'The code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).',
    );
  }
  const redirectUri = params.get('redirect_uri') ?? null;
  // Registered and allowed now (RFC 8707 §2), then, inside the consuming statement, among the code's.
  const wanted = params.has('resource')
    ? await resolveResources(env.DB, config, client, allValues(params, 'resource'))
    : null;
  const jti = randomToken(16);
  const result = await redeemCode(env.DB, {
    code,
    clientId: client.id,
    redirectUri,
    challenge: verifier !== undefined ? await s256(verifier) : null,
    jti,
    // One second of margin: the token is signed just after the batch.
    jtiExp: nowSeconds() + config.accessTokenTtl + 1,
    refreshTtl: mayRefresh(client) ? config.refreshTokenTtl : null,
    resources: wanted ? grantedKeys(config, wanted) : [],
    defaultResource: builtinKey(config),
  });
  if (!result.ok) {
    if (result.reason === 'replayed') {
      await revocationsChanged(env.CACHE); // this isolate honours the deny-listed token at once
      console.warn(JSON.stringify({ level: 'warn', event: 'code_replay', requestId, clientId: client.id }));
      await audit(env.DB, 'code_replay', { actor: client.id, subject: result.record?.userId, requestId });
    }
    const [errorCode, description] = FAILURES[result.reason];
    throw new OAuthError(errorCode, description, { reason: result.reason });
  }
  const { record } = result;
  // Narrowed to `wanted`: only the scopes those resources understand; otherwise everything the code was for.
  const scope = wanted ? scopesFor(record.scope.split(' ').filter(Boolean), wanted).join(' ') : record.scope;
  const audience = audienceOf(wanted ? wanted.map((r) => r.uri) : audienceForKeys(config, record.resources));
  const at = await issueAccessToken(config, ring, {
    sub: record.userId,
    clientId: client.id,
    scope,
    jti,
    fid: result.familyId,
    audience,
  });
  return {
    accessToken: at.token,
    expiresIn: at.expiresIn,
    scope,
    refreshToken: result.refreshToken ?? undefined,
    idToken: await idTokenForCode(env, config, ring, client, record, at.token),
  };
};
