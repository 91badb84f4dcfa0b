-- Versions per tenant instead of one store-wide counter: with one counter, the gap between two versions a tenant
-- saw told it how many writes other tenants had made in between. Each tenant's row in `tenants` now holds the last
-- version its writes took (store_revision stays: it numbers the writer's commits, which durable reads wait for).
-- A tenant's row is never deleted, so its counter never goes back, not even when its last conversation is
-- cleared: a thread created again never gets a version its earlier self had.
--
-- Tenants whose conversations were all deleted before V5 have no row. So that they too never get an old version
-- again, every tenant's counter starts at version_floor: the store-wide counter as it was when this ran (0 in a new
-- database). It never changes after, so it tells no one anything.
ALTER TABLE tenants ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

CREATE TABLE version_floor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    floor INTEGER NOT NULL
);
INSERT INTO version_floor (id, floor)
    SELECT 1, max(revision, coalesce((SELECT max(version) FROM conversations), 0)) FROM store_revision;

UPDATE tenants SET revision = (SELECT floor FROM version_floor);

DROP TRIGGER conversation_counted;
CREATE TRIGGER conversation_counted AFTER INSERT ON conversations
BEGIN
    INSERT OR IGNORE INTO tenants (tenant, conversations, revision) SELECT NEW.tenant, 0, floor FROM version_floor;
    UPDATE tenants SET conversations = conversations + 1 WHERE tenant = NEW.tenant;
END;
