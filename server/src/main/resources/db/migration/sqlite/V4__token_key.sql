-- The key the service signs List page tokens with (HMAC-SHA256), so that a token cannot be forged and stays valid
-- across restarts. One row, written once by the server that opens the database first (32 random bytes from the
-- JVM's SecureRandom).
CREATE TABLE token_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key BLOB NOT NULL
);
