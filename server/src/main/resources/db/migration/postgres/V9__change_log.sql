-- The change log that Watch streams from: one row per mutation, inserted in the mutation's own transaction, pruned
-- from the oldest end once older than [watch] log_retention. A write takes its version under a per-tenant
-- advisory lock held until it commits (PostgresStorageTransaction.nextVersion), so within a tenant versions
-- increase in commit order, on whichever server they run: a reader that has read up to a version never meets a
-- lower one later. messages: the messages the change wrote, each as its id and JSON, each preceded by its length.
CREATE TABLE change_log (
    entry_id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant         text        NOT NULL,
    version        bigint      NOT NULL,
    thread_id      text        NOT NULL,
    kind           smallint    NOT NULL,
    first_position bigint      NOT NULL,
    message_count  bigint      NOT NULL,
    messages       bytea       NOT NULL,
    commit_time    timestamptz NOT NULL
);
CREATE UNIQUE INDEX change_log_by_tenant ON change_log (tenant, version);
CREATE INDEX change_log_by_thread ON change_log (tenant, thread_id, version);
-- Pruning takes the oldest entries first.
CREATE INDEX change_log_by_time ON change_log (commit_time);

-- Per tenant, the highest version whose entry may be gone (see the SQLite schema's V11): a reader asking for the
-- changes after a lower version is told they are no longer all there. A database with conversations from before
-- this log starts with each tenant's newest version here.
CREATE TABLE change_log_pruned (
    tenant  text   PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO change_log_pruned (tenant, version) SELECT tenant, max(version) FROM conversations GROUP BY tenant;
