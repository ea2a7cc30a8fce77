-- Issue 11: a per-client refresh-token policy. `rotate` (the behaviour so far): every use returns a new refresh token
-- and presenting a used one revokes its family (RFC 9700 §4.14.2). `reuse`: the refresh token is returned unchanged
-- and stays valid until its absolute expiry or revocation (RFC 6749 §6: issuing a new one is optional), for
-- integrations written from seed 000, which shows the same refresh_token in every response.
-- Only a confidential client may reuse: RFC 9700 §4.14.2 requires rotation (or sender-constraining) for public
-- clients, whose refresh token is the whole credential. The CHECK keeps that true even for a hand-written UPDATE
-- (confidential never changes after creation).
ALTER TABLE clients ADD COLUMN refresh_token_policy TEXT NOT NULL DEFAULT 'rotate'
  CHECK (refresh_token_policy = 'rotate' OR (refresh_token_policy = 'reuse' AND confidential = 1));
