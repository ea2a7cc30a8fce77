-- Remembered consent per resource (issue 13, RFC 8707). See docs/storage-schema.md and src/oauth/consent.ts.
-- `scope_mask` keeps meaning what it meant: the scopes allowed for the default audience (/v1) and the OpenID Connect
-- scopes. `resources` holds what was allowed for every other resource server, as a JSON array of entries:
-- "<canonical uri>" (the resource itself) and "<canonical uri> <scope>" (one of its scopes). NULL (every row from
-- before this migration) = no other resource.
ALTER TABLE consents ADD COLUMN resources TEXT;
