-- Versions per tenant instead of one store-wide sequence: with one sequence, the gap between two versions a tenant
-- saw told it how many writes other tenants had made in between. Each tenant's row in `tenants` now holds the last
-- version its writes took; a write takes the next one under the row's lock (held until commit, so a tenant's
-- versions increase in commit order on whichever server its writes run). A tenant's row is never deleted, so its
-- counter never goes back, not even when its last conversation is cleared: a thread created again never gets a
-- version its earlier self had.
--
-- Every tenant that ever had a conversation has a row here (creations have always kept its count). Its counter
-- starts at the store-wide sequence's last value, above every version handed out so far.
ALTER TABLE tenants ADD COLUMN revision bigint NOT NULL DEFAULT 0;
UPDATE tenants SET revision = (SELECT last_value FROM store_revision);
