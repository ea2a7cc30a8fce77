-- Issue 10 items 4 and 5: revoking a grant reaches its access tokens; browser sessions end on the server.
-- See docs/storage-schema.md and docs/security.md ("How revocation reaches access tokens", "How sessions end").

-- The deny-list gains the kind 'family': every access token carrying `fid` = value (issued from that refresh-token
-- family or authorization-code grant) is refused until expires_at, when the last of them has expired. SQLite cannot
-- alter a CHECK constraint, so the table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter).
CREATE TABLE revocations_new (
  kind        TEXT NOT NULL CHECK (kind IN ('jti', 'client', 'user', 'family')),
  value       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (kind, value)
);
INSERT INTO revocations_new (kind, value, created_at, expires_at) SELECT kind, value, created_at, expires_at FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_new RENAME TO revocations;
CREATE INDEX revocations_expiry ON revocations (expires_at);

-- Browser sessions (login, consent and portal pages). The signed cookie carries a random 256-bit session id; only
-- its SHA-256 is stored, so a read of this table cannot be replayed as a cookie. Every page that reads the session
-- reads its row (joined with the user) in one D1 read; deleting the row ends the session everywhere at once.
CREATE TABLE sessions (
  hash        TEXT PRIMARY KEY,             -- base64url SHA-256 of the session id
  user_id     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL              -- created_at + SESSION_SECONDS; deleted by the cleanup job after it
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
