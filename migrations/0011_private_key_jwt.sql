-- Issue 13: private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9).
--
-- A client that authenticates with a signed JWT registers its public keys, either inline (`jwks`, an RFC 7517 JWK
-- Set as JSON) or by URL (`jwks_uri`, fetched and cached per isolate), never both (RFC 7591 §2). Such a client is
-- confidential and has no secret. Its registered method is read as `private_key_jwt` from the presence of keys
-- (src/storage/clients.ts fromRow): the CHECK of migrations/0006 on token_endpoint_auth_method cannot be widened
-- without rebuilding the clients table, which would race the other migrations of this release; the column keeps
-- 'client_secret_basic' for these rows and is not read for them.
ALTER TABLE clients ADD COLUMN jwks TEXT
  CHECK (jwks IS NULL OR (confidential = 1 AND secret_hash IS NULL));
ALTER TABLE clients ADD COLUMN jwks_uri TEXT
  CHECK (jwks_uri IS NULL OR (jwks IS NULL AND confidential = 1 AND secret_hash IS NULL));

-- The replay record of client assertions (RFC 7523 §3 item 7: the jti may be used once). One row per accepted
-- assertion, keyed by the SHA-256 of client id and jti, kept until the assertion expires (after that its exp refuses
-- it anyway) and then deleted by the cleanup cron (src/jobs/cleanup.ts). An accepted assertion is the INSERT that
-- changed a row: `INSERT … ON CONFLICT DO NOTHING`, meta.changes = 1 (src/storage/assertion-jtis.ts).
CREATE TABLE client_assertion_jtis (
  hash        TEXT PRIMARY KEY,   -- base64url SHA-256 of "<client_id> <jti>"
  expires_at  INTEGER NOT NULL    -- the assertion's exp, seconds
);
CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);
