-- Versions per tenant instead of one store-wide sequence (issue 23, finding 7): with one sequence, the gap between
-- two versions a tenant saw told it how many writes other tenants had made in between. Each tenant's row in
-- `tenants` now holds the last version its writes took. A write takes the next one with
-- UPDATE tenants SET revision = revision + 1 ... RETURNING (PostgresStorageTransaction.nextVersion), which locks
-- that row until the write commits: a tenant's versions are unique and increase in commit order, on whichever server
-- they run, which the change log's readers rely on (having read a tenant's changes up to a version, none with a
-- lower one commits later). That row lock replaces the per-tenant advisory lock the sequence was taken under.
--
-- A tenant's row is never deleted (a Clear of its last conversation leaves it at 0 conversations), so its counter
-- never goes back and a thread created again never gets a version its earlier self had. So that this holds across
-- the change too, every counter starts at the floor: the highest version the sequence (or any row) ever handed out
-- when this ran (0 in a new database). Rows created later (new tenants) start there as well, as the column's
-- default; it never changes after, so it tells no one anything.
--
-- Servers of an earlier release still take versions from the sequence: they must all be stopped before this runs
-- (the sequence is dropped, so one left running fails its writes instead of handing out versions twice).
ALTER TABLE tenants ADD COLUMN revision bigint NOT NULL DEFAULT 0;

DO $$
DECLARE
    version_floor bigint;
BEGIN
    SELECT greatest(CASE WHEN is_called THEN last_value ELSE 0 END,
                    (SELECT coalesce(max(version), 0) FROM conversations),
                    (SELECT coalesce(max(version), 0) FROM change_log),
                    (SELECT coalesce(max(version), 0) FROM change_log_pruned))
        INTO version_floor FROM store_revision;
    UPDATE tenants SET revision = version_floor;
    EXECUTE format('ALTER TABLE tenants ALTER COLUMN revision SET DEFAULT %s', version_floor);
END
$$;

DROP SEQUENCE store_revision;
