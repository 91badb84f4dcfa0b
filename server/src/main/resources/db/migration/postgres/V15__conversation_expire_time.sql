-- A conversation's own expire time, set or cleared by a write (expiry in Save, Append, UpdateMetadata); NULL when
-- it has none (every existing row: adding a nullable column without a default rewrites nothing). Once it has
-- passed, reads and writes treat the conversation as absent and the retention sweep deletes it, finding it by the
-- partial index (only rows with an expire time are in it, so conversations without one cost it nothing).
ALTER TABLE conversations ADD COLUMN expire_time timestamptz;
CREATE INDEX conversations_by_expire_time ON conversations (expire_time) WHERE expire_time IS NOT NULL;
