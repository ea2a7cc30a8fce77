-- Issue 13: clients registered without an initial access token (REGISTRATION_POLICY open-public or open) expire when
-- unused. `registered_openly` marks them (0 for every client so far and for every other way of creating one);
-- `last_used_at` is the last day a token was issued to them, written at most once a day per client (src/storage/
-- open-clients.ts), null until the first use (the cleanup then counts from created_at).
ALTER TABLE clients ADD COLUMN registered_openly INTEGER NOT NULL DEFAULT 0 CHECK (registered_openly IN (0, 1));
ALTER TABLE clients ADD COLUMN last_used_at INTEGER;
-- The cron cleanup's scan (src/jobs/cleanup.ts): only the openly registered clients, oldest use first.
CREATE INDEX clients_open_idle ON clients (COALESCE(last_used_at, created_at)) WHERE registered_openly = 1;
