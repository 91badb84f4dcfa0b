-- Each tenant's messages and history bytes, kept with the rows as its conversation count is: GetServerStatus and
-- the metrics endpoint read the tenants table instead of summing every conversation row, which cost a walk of the
-- tenant's (or the whole store's) conversations per call.
--
-- Triggers keep the totals, so they stay exact whatever changes the rows (any server's writes, the retention
-- sweep, an operator's psql), in the same transaction as the rows. They run once per statement over its transition
-- tables, one UPDATE of each tenant's row the statement touched: a row-level trigger updating the same tenant row
-- once per inserted row made a bulk insert quadratic (20,000 rows in one statement took 4 s, and a million would
-- take hours), since each update of a row the transaction already updated walks its chain of versions. They run
-- after the statement's own changes, so the tenant's row exists by then (a creation inserts it in the same
-- statement), and a write that already updated it (its version) updates it again under the lock it holds.
-- PostgreSQL allows transition tables only on a trigger of one event and without a column list: three triggers,
-- and the update one runs for every UPDATE of conversations (it changes nothing where no size changed).
ALTER TABLE tenants ADD COLUMN messages bigint NOT NULL DEFAULT 0,
    ADD COLUMN history_bytes bigint NOT NULL DEFAULT 0;

UPDATE tenants t SET messages = s.messages, history_bytes = s.history_bytes
    FROM (SELECT tenant, sum(message_count) AS messages, sum(history_bytes) AS history_bytes FROM conversations
          GROUP BY tenant) s
    WHERE s.tenant = t.tenant;

CREATE FUNCTION tenant_totals_follow_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tenants t SET messages = t.messages + d.messages, history_bytes = t.history_bytes + d.history_bytes
            FROM (SELECT tenant, sum(message_count) AS messages, sum(history_bytes) AS history_bytes FROM added
                  GROUP BY tenant) d
            WHERE t.tenant = d.tenant AND (d.messages <> 0 OR d.history_bytes <> 0);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tenants t SET messages = t.messages - d.messages, history_bytes = t.history_bytes - d.history_bytes
            FROM (SELECT tenant, sum(message_count) AS messages, sum(history_bytes) AS history_bytes FROM removed
                  GROUP BY tenant) d
            WHERE t.tenant = d.tenant AND (d.messages <> 0 OR d.history_bytes <> 0);
    ELSE
        UPDATE tenants t SET messages = t.messages + d.messages, history_bytes = t.history_bytes + d.history_bytes
            FROM (SELECT tenant, sum(messages) AS messages, sum(history_bytes) AS history_bytes
                  FROM (SELECT tenant, message_count AS messages, history_bytes FROM added
                        UNION ALL SELECT tenant, -message_count, -history_bytes FROM removed) r
                  GROUP BY tenant) d
            WHERE t.tenant = d.tenant AND (d.messages <> 0 OR d.history_bytes <> 0);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenant_totals_insert AFTER INSERT ON conversations REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_totals_follow_rows();
CREATE TRIGGER tenant_totals_delete AFTER DELETE ON conversations REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_totals_follow_rows();
CREATE TRIGGER tenant_totals_update AFTER UPDATE ON conversations REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_totals_follow_rows();
