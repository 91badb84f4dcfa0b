-- The retention sweep looks for idle conversations tenant by tenant, each with its own max_idle
-- ([retention] tenant_max_idle), by this index: a batch reads the rows it deletes plus one probe per tenant. It
-- replaces V12's store-wide index on update_time, whose walk stepped over every old conversation of a tenant that
-- keeps them longer (or for ever), at every sweep. One index on update_time either way, so a write costs the same.
DROP INDEX conversations_by_update_time;
CREATE INDEX conversations_by_tenant_update_time ON conversations (tenant, update_time);
