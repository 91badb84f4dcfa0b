-- The key the service signs List page tokens with (HMAC-SHA256), the same for every server on this database, so
-- that a page token one server handed out is good on every other and after restarts. One row, written once by the
-- server that opens the database first (32 random bytes from the JVM's SecureRandom); the others read it.
CREATE TABLE token_key (
    id  integer PRIMARY KEY CHECK (id = 1),
    key bytea   NOT NULL
);
