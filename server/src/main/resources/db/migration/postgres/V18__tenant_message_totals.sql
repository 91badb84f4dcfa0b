-- Each tenant's messages and history bytes, kept with the rows as its conversation count is: GetServerStatus and
-- the metrics endpoint read the tenants table instead of summing every conversation row, which cost a walk of the
-- tenant's (or the whole store's) conversations per call.
--
-- A trigger keeps the totals, so they stay exact whatever changes the rows (any server's writes, the retention
-- sweep, an operator's psql), in the same transaction as the rows. It runs after the statement's own changes, so
-- the tenant's row exists by then (a creation inserts it in the same statement) and a write that already updated
-- it (its version) updates it again as the same transaction, under the lock it holds.
ALTER TABLE tenants ADD COLUMN messages bigint NOT NULL DEFAULT 0,
    ADD COLUMN history_bytes bigint NOT NULL DEFAULT 0;

UPDATE tenants t SET messages = s.messages, history_bytes = s.history_bytes
    FROM (SELECT tenant, sum(message_count) AS messages, sum(history_bytes) AS history_bytes FROM conversations
          GROUP BY tenant) s
    WHERE s.tenant = t.tenant;

CREATE FUNCTION tenant_totals_follow_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tenant_of text;
    added_messages bigint := 0;
    added_bytes bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        tenant_of := NEW.tenant;
        added_messages := NEW.message_count;
        added_bytes := NEW.history_bytes;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        tenant_of := OLD.tenant;
        added_messages := added_messages - OLD.message_count;
        added_bytes := added_bytes - OLD.history_bytes;
    END IF;
    -- A creation (its row starts empty) and an update that keeps the sizes leave the tenant's row alone.
    IF added_messages <> 0 OR added_bytes <> 0 THEN
        UPDATE tenants SET messages = messages + added_messages, history_bytes = history_bytes + added_bytes
            WHERE tenant = tenant_of;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenant_totals AFTER INSERT OR DELETE OR UPDATE OF message_count, history_bytes ON conversations
    FOR EACH ROW EXECUTE FUNCTION tenant_totals_follow_rows();
