-- Issue 13: resource servers (RFC 8707 resource indicators). See docs/resource-indicators.md and docs/storage-schema.md.

-- Registered resource servers, by canonical URI (src/oauth/resource-uri.ts): the `aud` of the tokens issued for them.
-- Our own API (/v1) is NOT a row: its URI is ACCESS_TOKEN_AUDIENCE, which differs per deploy and is not known when
-- this migration runs, so it is a built-in entry in code (src/storage/resource-servers.ts BUILTIN) merged with this
-- table; a row with the same URI is refused by the admin API.
CREATE TABLE resource_servers (
  uri         TEXT PRIMARY KEY,               -- canonical: https (http only on loopback), no query/fragment/trailing slash
  name        TEXT NOT NULL,                  -- shown on the consent page
  scopes      TEXT NOT NULL DEFAULT '',       -- space-separated scopes this resource server understands (RFC 6749 §3.3)
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Which resources a client may ask for: NULL (the default) = every registered resource; otherwise a JSON array of
-- canonical URIs set by an administrator. The built-in /v1 is subject to the list too when one is set.
ALTER TABLE clients ADD COLUMN allowed_resources TEXT;

-- What a code and a refresh-token family were granted for: a JSON array of canonical URIs. NULL on rows written
-- before this migration (and never written since) means the default audience, ACCESS_TOKEN_AUDIENCE.
ALTER TABLE authorization_codes ADD COLUMN resources TEXT;
ALTER TABLE refresh_tokens ADD COLUMN resources TEXT;
