-- How many conversations each tenant has, kept with the rows: the per-tenant limit reads one row of this table
-- instead of counting the tenant's conversations, which made a creation cost grow with the tenant's size (and,
-- on the single writer, stalled every tenant's writes behind it).
--
-- Triggers keep the count, so it stays exact whatever deletes or inserts conversations (the server, a batch rolled
-- back to a savepoint, an operator's sqlite3 shell): the count changes in the same transaction as the rows. A
-- tenant's row stays when its count falls to 0.
CREATE TABLE tenants (
    tenant        TEXT    PRIMARY KEY,
    conversations INTEGER NOT NULL CHECK (conversations >= 0)
) WITHOUT ROWID;

INSERT INTO tenants (tenant, conversations) SELECT tenant, count(*) FROM conversations GROUP BY tenant;

CREATE TRIGGER conversation_counted AFTER INSERT ON conversations
BEGIN
    INSERT OR IGNORE INTO tenants (tenant, conversations) VALUES (NEW.tenant, 0);
    UPDATE tenants SET conversations = conversations + 1 WHERE tenant = NEW.tenant;
END;

CREATE TRIGGER conversation_uncounted AFTER DELETE ON conversations
BEGIN
    UPDATE tenants SET conversations = conversations - 1 WHERE tenant = OLD.tenant;
END;
