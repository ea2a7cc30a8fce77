-- Core registry and token state. See docs/storage-schema.md for who reads and writes each table.

-- OAuth clients (RFC 6749 §2). Secrets are stored only as SHA-256 hashes (they are 256-bit random values,
-- so a fast hash is enough; passwords, which are low-entropy, use PBKDF2 instead).
CREATE TABLE clients (
  id             TEXT PRIMARY KEY,
  secret_hash    TEXT,                        -- base64url SHA-256 of the secret; NULL for public clients
  name           TEXT NOT NULL,
  site_url       TEXT,
  description    TEXT,
  logo_url       TEXT,
  redirect_uris  TEXT NOT NULL DEFAULT '[]',  -- JSON array, compared character for character
  grant_types    TEXT NOT NULL DEFAULT '["client_credentials"]', -- JSON array
  scopes         TEXT NOT NULL DEFAULT 'base', -- space-separated allow-list
  confidential   INTEGER NOT NULL DEFAULT 1,
  require_pkce   INTEGER NOT NULL DEFAULT 1,
  owner_user_id  TEXT,
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX clients_owner ON clients (owner_user_id);

-- Resource owners. Email is unique case-insensitively.
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash  TEXT NOT NULL,               -- "pbkdf2-sha256$<iterations>$<salt>$<hash>"
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

-- Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2): one row per issued token, grouped in families.
-- Rotation marks the presented row used (used_at, replaced_by) and inserts its successor in the same batch.
CREATE TABLE refresh_tokens (
  hash           TEXT PRIMARY KEY,            -- base64url SHA-256 of the token
  family_id      TEXT NOT NULL,
  client_id      TEXT NOT NULL,
  user_id        TEXT,
  scope          TEXT NOT NULL,
  scope_mask     INTEGER NOT NULL,            -- bit set of scope (base=1, files=2, upload_files=4): subset test in SQL
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,            -- absolute lifetime of the family, copied on rotation
  used_at        INTEGER,
  replaced_by    TEXT,
  revoked_at     INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);

-- Failure counters for brute-force protection. In D1, not KV: KV's ~60 s consistency would let an
-- attacker spread guesses across locations.
CREATE TABLE throttle (
  key            TEXT PRIMARY KEY,            -- "user:<email lowercased>" or "client:<client_id>"
  failures       INTEGER NOT NULL,
  window_start   INTEGER NOT NULL,
  locked_until   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX throttle_window ON throttle (window_start);
