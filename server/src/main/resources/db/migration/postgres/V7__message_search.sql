-- Full-text search of messages (Search). Each message carries the words of its JSON string values as a tsvector,
-- computed by the server (io.vmpilot.conversation.server.store.SearchText, the same words every backend cuts:
-- letters, digits and private-use characters, lower-cased) and written with the message, in its transaction. The
-- server builds the tsvector itself, not to_tsvector: PostgreSQL's parser would read "main.py" or a URL as one
-- token, and casting a message to jsonb fails on "\u0000".
ALTER TABLE messages ADD COLUMN search tsvector;

CREATE INDEX messages_search ON messages USING gin (search);

-- The messages stored before this migration have no tsvector yet: each server, when it starts, fills them in in
-- small batches (logging its progress), found through this index, which is empty once they are done.
CREATE INDEX messages_search_missing ON messages (conversation_id, position) WHERE search IS NULL;
