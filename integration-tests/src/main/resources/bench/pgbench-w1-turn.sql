-- W1's agent turn as the PostgreSQL backend runs it, for pgbench (docs/benchmark.md): an Append of two ~2 KB
-- messages with ids, then an UpdateCache, each one transaction, statement for statement (and round trip for round
-- trip) what PostgresStorageTransaction sends: the conversation's row locked, the ids looked up, the messages (with
-- their search words) inserted by the statement that takes the tenant's next version from its tenants row (locked
-- until commit), the row's update sent with the change log's entry. One pgbench "transaction" is one turn. Each
-- pgbench client has its conversation 'pgbench-<client_id>' (made by the benchmark before the run); user_message and
-- assistant_message come from -D. Two stand-ins: the words column is PostgreSQL's to_tsvector('simple', ...) (the
-- server sends a tsvector it built in Java, cast from text; the bench has no access to that code), and the change
-- log's copy of the messages is their text concatenated (the server adds 4-byte lengths: 16 bytes more).
BEGIN;
SELECT conversation_id AS cid, version AS v, message_count AS n, history_bytes AS hb FROM conversations
  WHERE tenant = 'default' AND thread_id = 'pgbench-' || :client_id FOR UPDATE \gset
SELECT message_id FROM messages WHERE conversation_id = :cid AND message_id = ANY (ARRAY['u' || :n, 'a' || :n]);
WITH inserted AS (INSERT INTO messages (conversation_id, position, message_id, json, create_time, search)
  VALUES (:cid, :n, 'u' || :n, :user_message, now(), to_tsvector('simple', :user_message)),
  (:cid, :n + 1, 'a' || :n, :assistant_message, now(), to_tsvector('simple', :assistant_message)))
  UPDATE tenants SET revision = revision + 1 WHERE tenant = 'default' RETURNING revision AS version \gset
WITH updated AS (UPDATE conversations SET version = :version, update_time = now(), message_count = :n + 2,
  history_bytes = :hb + 4096 WHERE conversation_id = :cid)
  INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages, commit_time)
  VALUES ('default', :version, 'pgbench-' || :client_id, 1, :n, :n + 2, convert_to('u' || :n || :user_message || 'a' || :n || :assistant_message, 'UTF8'), now());
END;
BEGIN;
SELECT conversation_id AS cid, version AS v, message_count AS n, history_bytes AS hb FROM conversations
  WHERE tenant = 'default' AND thread_id = 'pgbench-' || :client_id FOR UPDATE \gset
UPDATE tenants SET revision = revision + 1 WHERE tenant = 'default' RETURNING revision AS version \gset
WITH updated AS (UPDATE conversations SET version = :version, update_time = now(), message_count = :n,
  history_bytes = :hb, cache_info = coalesce((SELECT jsonb_object_agg(k, c)
  FROM unnest(ARRAY['input_tokens', 'output_tokens', 'cache_read_input_tokens'], ARRAY[1700, 300, 650]::bigint[])
  AS t (k, c)), '{}'::jsonb) WHERE conversation_id = :cid)
  INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages, commit_time)
  VALUES ('default', :version, 'pgbench-' || :client_id, 3, :n, :n, '\x'::bytea, now());
END;
