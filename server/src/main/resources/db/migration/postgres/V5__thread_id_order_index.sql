-- Export pages through a tenant's conversations by thread id, in code point order (COLLATE "C": the order of the
-- UTF-8 bytes, which SQLite and the memory backend use too, so a dump is the same whichever backend wrote it). The
-- unique key sorts by the database's collation, which may differ; this index serves the export's range scans.
CREATE INDEX conversations_by_thread_id ON conversations (tenant, thread_id COLLATE "C");
