-- The PostgreSQL backend's schema. Any number of servers share it and keep no state of their own: every rule that
-- spans requests (versions, the per-tenant limit, client ids) is enforced here, under row locks.
--
-- Messages are `text`, never `jsonb`: jsonb reorders keys, drops duplicates and rewrites numbers, and a message must
-- come back byte for byte as it was saved. The database must be UTF8 (the server checks at start-up).

-- Versions: one store-wide sequence, taken by a write while it holds its conversation's row lock, so that a
-- conversation's versions increase in the order its writes commit, on whichever server they run, and never repeat
-- (not even after a clear and re-creation). Gaps (rolled-back writes) are harmless.
CREATE SEQUENCE store_revision AS bigint MINVALUE 1 NO CYCLE;

-- How many conversations each tenant has: the per-tenant limit reads this row (under its lock, so two creations
-- cannot both take the last place) instead of counting up to a million rows.
CREATE TABLE tenants (
    tenant        text   PRIMARY KEY,
    conversations bigint NOT NULL CHECK (conversations >= 0)
);

CREATE TABLE conversations (
    conversation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant          text        NOT NULL,
    thread_id       text        NOT NULL,
    version         bigint      NOT NULL,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL,
    message_count   bigint      NOT NULL,
    history_bytes   bigint      NOT NULL,
    -- The prompt-cache counters, {"name": integer, ...}: written only by the server, always read and replaced with
    -- the row, never searched. jsonb keeps integers of any size exactly and merges with ||.
    cache_info      jsonb       NOT NULL DEFAULT '{}',
    -- Every read and write finds its conversation by this key (a B-tree: one lookup at any size).
    CONSTRAINT conversations_key UNIQUE (tenant, thread_id)
);

-- List: a tenant's conversations, newest version first; a page is one index range scan from before_version.
CREATE INDEX conversations_by_version ON conversations (tenant, version DESC);

-- One row per message. Append inserts at the end of its conversation's range and a read of the newest N is one
-- range scan of the primary key; neither reads the rest of the history.
CREATE TABLE messages (
    conversation_id bigint      NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    position        bigint      NOT NULL,
    message_id      text,
    json            text        NOT NULL,
    create_time     timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, position)
);

-- Client ids are unique within a conversation: an Append retried through another server finds the ids it stored.
-- Messages without an id (NULL) are not indexed.
CREATE UNIQUE INDEX messages_by_client_id ON messages (conversation_id, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE metadata (
    conversation_id bigint NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    name            text   NOT NULL,
    value           text   NOT NULL,
    PRIMARY KEY (conversation_id, name)
);

-- List filtered by metadata (e.g. project_root). Values may be up to 64 KiB, more than a B-tree entry may hold, so
-- the index keeps their md5 and the query compares the value itself too.
CREATE INDEX metadata_by_value ON metadata (name, md5(value));
