-- OpenID Connect (issue 15). See docs/openid-connect.md and docs/storage-schema.md.

-- Signing keys may be RS256 (OpenID Connect Core §15.1: mandatory for ID tokens; access tokens stay ES256/EdDSA).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same rows.
CREATE TABLE signing_keys_new (
  kid             TEXT PRIMARY KEY,
  alg             TEXT NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'RS256')),
  state           TEXT NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
  public_jwk      TEXT NOT NULL,
  private_jwk_enc TEXT,
  created_at      INTEGER NOT NULL,
  activated_at    INTEGER,
  verify_until    INTEGER
);
INSERT INTO signing_keys_new SELECT kid, alg, state, public_jwk, private_jwk_enc, created_at, activated_at, verify_until
  FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;
CREATE INDEX signing_keys_state ON signing_keys (state);

-- What the ID token issued for a code must say (Core §3.1.3.6): the request's nonce (echoed exactly), the time the
-- user signed in (auth_time), the session it came from (sid, a one-way digest of the session key), and the claims
-- request (Core §5.5, JSON) and whether auth_time must be sent.
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time INTEGER;
ALTER TABLE authorization_codes ADD COLUMN sid TEXT;
ALTER TABLE authorization_codes ADD COLUMN claims TEXT;

-- Standard claims of the user (Core §5.1); updated_at already exists.
ALTER TABLE users ADD COLUMN name TEXT;
ALTER TABLE users ADD COLUMN given_name TEXT;
ALTER TABLE users ADD COLUMN family_name TEXT;
ALTER TABLE users ADD COLUMN picture TEXT;
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

-- OpenID Connect client metadata (Dynamic Registration §2) as one JSON object, validated by
-- src/oauth/oidc-client-metadata.ts: id_token_signed_response_alg, subject_type, sector_identifier_uri,
-- post_logout_redirect_uris, default_max_age, require_auth_time, application_type.
ALTER TABLE clients ADD COLUMN oidc_metadata TEXT NOT NULL DEFAULT '{}';
