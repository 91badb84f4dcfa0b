-- Each tenant's messages and history bytes, kept with the rows as its conversation count is (V5): GetServerStatus
-- and the metrics endpoint read the tenants table instead of summing every conversation row, which cost a walk of
-- the tenant's (or the whole store's) conversations per call.
--
-- Triggers keep the totals, so they stay exact whatever changes the rows (the server's writes, a batch rolled back
-- to a savepoint, an operator's sqlite3 shell), in the same transaction as the rows. SQLite fires the triggers of
-- one event newest first, so the insert trigger is made again whole: it must create the tenant's row before it
-- adds to it.
ALTER TABLE tenants ADD COLUMN messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN history_bytes INTEGER NOT NULL DEFAULT 0;

UPDATE tenants SET
    messages = coalesce((SELECT sum(message_count) FROM conversations c WHERE c.tenant = tenants.tenant), 0),
    history_bytes = coalesce((SELECT sum(history_bytes) FROM conversations c WHERE c.tenant = tenants.tenant), 0);

DROP TRIGGER conversation_counted;
CREATE TRIGGER conversation_counted AFTER INSERT ON conversations
BEGIN
    INSERT OR IGNORE INTO tenants (tenant, conversations, revision) SELECT NEW.tenant, 0, floor FROM version_floor;
    UPDATE tenants SET conversations = conversations + 1, messages = messages + NEW.message_count,
        history_bytes = history_bytes + NEW.history_bytes WHERE tenant = NEW.tenant;
END;

DROP TRIGGER conversation_uncounted;
CREATE TRIGGER conversation_uncounted AFTER DELETE ON conversations
BEGIN
    UPDATE tenants SET conversations = conversations - 1, messages = messages - OLD.message_count,
        history_bytes = history_bytes - OLD.history_bytes WHERE tenant = OLD.tenant;
END;

CREATE TRIGGER conversation_resized AFTER UPDATE OF message_count, history_bytes ON conversations
    WHEN NEW.message_count IS NOT OLD.message_count OR NEW.history_bytes IS NOT OLD.history_bytes
BEGIN
    UPDATE tenants SET messages = messages + NEW.message_count - OLD.message_count,
        history_bytes = history_bytes + NEW.history_bytes - OLD.history_bytes WHERE tenant = NEW.tenant;
END;
