-- Operations: signing keys rotated at run time, dynamic client registration (RFC 7591 / RFC 7592).
-- See docs/storage-schema.md and docs/operations.md.

-- Signing keys managed by the admin API (the SIGNING_KEYS secret is only the bootstrap ring, used while
-- no key here is 'current'). Life cycle: next (published in the JWKS, not signing) → current (signs)
-- → previous (verifies until verify_until, when the last token it signed has expired) → retired
-- (out of the JWKS, private key erased).
CREATE TABLE signing_keys (
  kid             TEXT PRIMARY KEY,
  alg             TEXT NOT NULL CHECK (alg IN ('ES256', 'EdDSA')),
  state           TEXT NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
  public_jwk      TEXT NOT NULL,              -- JSON public JWK
  private_jwk_enc TEXT,                       -- base64url(iv ‖ AES-256-GCM(KEY_ENCRYPTION_KEY, private JWK JSON), aad = kid);
                                              -- NULL for a bootstrap key recorded from the secret, and once retired
  created_at      INTEGER NOT NULL,
  activated_at    INTEGER,                    -- became current
  verify_until    INTEGER                     -- set when it stops signing: after this no token it signed is alive
);
CREATE INDEX signing_keys_state ON signing_keys (state);

-- Initial access tokens (RFC 7591 §3): issued by an administrator, required to register a client.
-- Usable until expiry, at most max_uses times (NULL = unlimited); counted by one atomic UPDATE.
CREATE TABLE initial_access_tokens (
  hash        TEXT PRIMARY KEY,               -- base64url SHA-256 of the token
  label       TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  max_uses    INTEGER,
  uses        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX initial_access_tokens_expiry ON initial_access_tokens (expires_at);

-- Registration access tokens (RFC 7592 §1): one per dynamically registered client, for read/update/delete.
CREATE TABLE client_registrations (
  client_id   TEXT PRIMARY KEY,
  rat_hash    TEXT NOT NULL,                  -- base64url SHA-256 of the registration access token
  created_at  INTEGER NOT NULL
);
