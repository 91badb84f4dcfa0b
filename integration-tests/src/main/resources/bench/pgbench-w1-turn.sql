-- W1's agent turn as the PostgreSQL backend runs it, for pgbench (docs/benchmark.md): an Append of two ~2 KB
-- messages with ids, then an UpdateCache, each one transaction holding the conversation's row lock, statement for
-- statement what PostgresStorageTransaction sends. One pgbench "transaction" is one turn. Each pgbench client has
-- its conversation 'pgbench-<client_id>' (made by the benchmark before the run); user_message and
-- assistant_message come from -D.
BEGIN;
SELECT conversation_id AS cid, message_count AS n, history_bytes AS hb FROM conversations
  WHERE tenant = 'default' AND thread_id = 'pgbench-' || :client_id FOR UPDATE \gset
SELECT message_id FROM messages WHERE conversation_id = :cid AND message_id = ANY (ARRAY['u' || :n, 'a' || :n]);
INSERT INTO messages (conversation_id, position, message_id, json, create_time)
  VALUES (:cid, :n, 'u' || :n, :user_message, now());
INSERT INTO messages (conversation_id, position, message_id, json, create_time)
  VALUES (:cid, :n + 1, 'a' || :n, :assistant_message, now());
UPDATE tenants SET revision = revision + 1 WHERE tenant = 'default' RETURNING revision AS version \gset
UPDATE conversations SET version = :version, update_time = now(), message_count = :n + 2, history_bytes = :hb + 4096
  WHERE conversation_id = :cid;
END;
BEGIN;
SELECT conversation_id AS cid FROM conversations
  WHERE tenant = 'default' AND thread_id = 'pgbench-' || :client_id FOR UPDATE \gset
UPDATE tenants SET revision = revision + 1 WHERE tenant = 'default' RETURNING revision AS version \gset
UPDATE conversations SET version = :version, update_time = now(), cache_info = coalesce((SELECT jsonb_object_agg(k, c)
  FROM unnest(ARRAY['input_tokens', 'output_tokens', 'cache_read_input_tokens'], ARRAY[1700, 300, 650]::bigint[])
  AS t (k, c)), '{}'::jsonb) WHERE conversation_id = :cid;
END;
