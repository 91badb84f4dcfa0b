-- The change log that Watch streams from: one row per mutation, written in the mutation's own transaction (so an
-- entry exists exactly when its change does), pruned from the oldest end once older than [watch] log_retention.
-- entry_id grows in commit order (one writer); within a tenant so do versions, which is what readers page by.
-- messages: the messages the change wrote (an Append's, a Save's new tail), each as its id and JSON, each preceded
-- by its length (LoggedMessages), so that a logged Append stays one insert.
CREATE TABLE change_log (
    entry_id       INTEGER PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    thread_id      TEXT    NOT NULL,
    kind           INTEGER NOT NULL,
    first_position INTEGER NOT NULL,
    message_count  INTEGER NOT NULL,
    messages       BLOB    NOT NULL,
    commit_time    INTEGER NOT NULL
);
-- A tenant's changes after a version; one conversation's.
CREATE UNIQUE INDEX change_log_by_tenant ON change_log (tenant, version);
CREATE INDEX change_log_by_thread ON change_log (tenant, thread_id, version);

-- Per tenant, the highest version whose entry may be gone: changes after a lower version can no longer all be
-- read, and a reader asking for them is told so (OUT_OF_RANGE) instead of being given a gap. A database that had
-- conversations before this log existed starts with each tenant's newest version here, for the same reason.
CREATE TABLE change_log_pruned (
    tenant  TEXT    PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO change_log_pruned (tenant, version) SELECT tenant, max(version) FROM conversations GROUP BY tenant;
