-- Authorization code flow (RFC 6749 §4.1, RFC 7636, RFC 9700). See docs/storage-schema.md.

-- Authorization codes: stored only as a SHA-256 hash, bound to everything the token request must repeat.
-- Redemption is one UPDATE … WHERE used_at IS NULL (single use); the row is kept after use until it expires
-- plus a margin, so a replay can be recognised and the tokens issued from it revoked (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
  hash               TEXT PRIMARY KEY,        -- base64url SHA-256 of the code (256 random bits)
  client_id          TEXT NOT NULL,
  user_id            TEXT NOT NULL,
  redirect_uri       TEXT NOT NULL,           -- the URI the code was sent to
  redirect_uri_sent  INTEGER NOT NULL,        -- 1 if the request named it: the token request must repeat it (§4.1.3)
  scope              TEXT NOT NULL,
  scope_mask         INTEGER NOT NULL,
  code_challenge     TEXT,                    -- RFC 7636 S256 challenge; NULL only for clients allowed without PKCE
  created_at         INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,        -- created_at + AUTH_CODE_TTL (60 s)
  used_at            INTEGER,
  issued_jti         TEXT,                    -- access token issued on redemption (deny-listed on replay)
  issued_jti_exp     INTEGER,
  issued_family_id   TEXT                     -- refresh-token family issued on redemption (revoked on replay)
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

-- Remembered consent (one row per user and client): the scopes the user allowed, as a bit mask, so a
-- later request for a subset skips the consent page. Withdrawn from the portal (DELETE).
CREATE TABLE consents (
  user_id      TEXT NOT NULL,
  client_id    TEXT NOT NULL,
  scope_mask   INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);
