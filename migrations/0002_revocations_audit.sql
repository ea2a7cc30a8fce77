-- Access-token deny-list (RFC 7009 §2 for JWTs): a JWT cannot be recalled, so revoked ones are listed
-- until they would have expired anyway. Kinds:
--   jti    one access token                      (value = jti)
--   client every token of a client issued before created_at (value = client_id; app deleted or disabled)
--   user   every token of a user issued before created_at   (value = user_id; user disabled)
CREATE TABLE revocations (
  kind        TEXT NOT NULL CHECK (kind IN ('jti', 'client', 'user')),
  value       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,             -- after this, every token it covers has expired: safe to delete
  PRIMARY KEY (kind, value)
);
CREATE INDEX revocations_expiry ON revocations (expires_at);

-- Security audit trail: failed authentications, refresh-token reuse, code replay, client and key changes.
CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  event       TEXT NOT NULL,
  actor       TEXT,                         -- who did it: client id, user id, "admin"
  subject     TEXT,                         -- what it was done to
  detail      TEXT,                         -- JSON, never a secret or a full token
  request_id  TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_event ON audit_events (event, at);
