/**
 * OpenID Connect Discovery 1.0 §3: the OpenID Provider members, added to the RFC 8414 document (one source for
 * both: src/routes/well-known.ts serves the same object at both addresses). No I/O.
 */
import { CLAIMS_SUPPORTED } from './oidc-claims';

export function openidProviderMetadata(issuer: string, idTokenAlgs: readonly string[]): Record<string, unknown> {
  return {
    userinfo_endpoint: `${issuer}/oauth2/userinfo`,
    end_session_endpoint: `${issuer}/oauth2/logout`,
    subject_types_supported: ['public', 'pairwise'],
    id_token_signing_alg_values_supported: idTokenAlgs,
    claims_supported: CLAIMS_SUPPORTED,
    claims_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    display_values_supported: ['page', 'popup'],
    claim_types_supported: ['normal'],
    // Core §3.1.2.1: accepted and ignored (the pages are in English).
    ui_locales_supported: ['en'],
    claims_locales_supported: ['en'],
    frontchannel_logout_supported: false,
    backchannel_logout_supported: false,
  };
}
