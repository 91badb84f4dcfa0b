-- One row per conversation, one row per message, so that Append and partial reads touch only the rows they
-- need. Times are microseconds since the Unix epoch (UTC).

-- The store-wide revision counter that versions come from: it only grows, so a thread's version never
-- repeats, even after the conversation is cleared and created again.
CREATE TABLE store_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO store_revision (id, revision) VALUES (1, 0);

CREATE TABLE conversations (
    conversation_id INTEGER PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    thread_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    create_time     INTEGER NOT NULL,
    update_time     INTEGER NOT NULL,
    message_count   INTEGER NOT NULL,
    history_bytes   INTEGER NOT NULL,
    UNIQUE (tenant, thread_id)
);

-- List: a tenant's conversations, most recently changed first.
CREATE INDEX conversations_by_version ON conversations (tenant, version DESC);

CREATE TABLE messages (
    conversation_id INTEGER NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    message_id      TEXT,
    json            TEXT    NOT NULL,
    create_time     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, position)
) WITHOUT ROWID;

-- Client ids are unique within a conversation; messages without an id (NULL) are never compared.
CREATE UNIQUE INDEX messages_by_client_id ON messages (conversation_id, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE cache_info (
    conversation_id INTEGER NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    value           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, name)
) WITHOUT ROWID;

CREATE TABLE metadata (
    conversation_id INTEGER NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    value           TEXT    NOT NULL,
    PRIMARY KEY (conversation_id, name)
) WITHOUT ROWID;

-- List filtered by metadata (e.g. project_root).
CREATE INDEX metadata_by_value ON metadata (name, value);
