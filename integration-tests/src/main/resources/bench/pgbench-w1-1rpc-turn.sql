-- W1-1rpc's agent turn for pgbench (docs/benchmark.md, "pgbench: the server's SQL"): one Append of two ~2 KB
-- messages with ids carrying the counters (AppendRequest.cache_info), one transaction, with the statements and
-- round trips PostgresStorageTransaction sends (two pipelines: the row's lock with the stored ids, then the one
-- statement that writes, with the COMMIT); the same variables as pgbench-w1-turn.sql (see there). The row's update
-- merges the counters into those stored (cache_info || ...), as an Append's does.
\set cid :first_cid + :client_id
\set n1 :n + 1
\set n2 :n + 2
\set hb2 :hb + :turn_bytes
\startpipeline
BEGIN;
SELECT conversation_id, version, message_count, history_bytes, update_time, expire_time FROM conversations
  WHERE tenant = :tenant AND thread_id = :client_id FOR UPDATE;
SELECT message_id FROM messages WHERE conversation_id = (SELECT conversation_id FROM conversations
  WHERE tenant = :tenant AND thread_id = :client_id) AND message_id = ANY (ARRAY[:n, :n1]::text[]);
\endpipeline
\startpipeline
WITH inserted AS (INSERT INTO messages (conversation_id, position, message_id, json, create_time, search)
  VALUES (:cid, :n, :n, :user_json, now(), CAST(:user_words AS tsvector)),
  (:cid, :n1, :n1, :assistant_json, now(), CAST(:assistant_words AS tsvector))),
  taken AS (UPDATE tenants SET revision = revision + 1 WHERE tenant = :tenant RETURNING revision),
  updated AS (UPDATE conversations SET version = (SELECT revision FROM taken), update_time = now(),
  message_count = :n2, history_bytes = :hb2, expire_time = NULL, cache_info = cache_info || coalesce((SELECT jsonb_object_agg(n, v)
  FROM unnest(CAST(:cache_names AS text[]), CAST(:cache_values AS bigint[])) AS t (n, v)), '{}'::jsonb) WHERE conversation_id = :cid),
  logged AS (INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages,
  commit_time, metadata_before, metadata) SELECT :tenant, revision, :client_id, 1, :n, :n2, CAST(:logged AS bytea),
  now(), NULL, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m JOIN conversations c
  ON c.conversation_id = m.conversation_id WHERE c.tenant = :tenant AND c.thread_id = :client_id) FROM taken)
  SELECT revision FROM taken;
COMMIT;
\endpipeline
\set n :n2
\set hb :hb2
