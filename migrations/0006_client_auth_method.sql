-- The client authentication method a client registered (RFC 7591 §2 token_endpoint_auth_method), so that RFC 7592
-- reads it back as registered and the token, revocation and introspection endpoints accept only that method.
-- Existing clients were registered under the RFC 7591 default, client_secret_basic; public clients use none.
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
  CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none'));
UPDATE clients SET token_endpoint_auth_method = 'none' WHERE confidential = 0;
