-- W1's agent turn for pgbench (docs/benchmark.md, "pgbench: the server's SQL"): an Append of two ~2 KB messages
-- with ids, then an UpdateCache, each one transaction, with the statements PostgresStorageTransaction sends (as a
-- throwaway cluster with log_statement=all shows) and the same round trips, two per write: first BEGIN, the row's
-- lock and (for the Append) the stored ids, in one pipeline, as the JDBC driver sends them; then one statement that
-- takes the tenant's version, writes the messages, the row and the change log's entry, with the COMMIT (a pipeline
-- too, as the server sends `...; COMMIT`). The values are the
-- server's (PgbenchValues, from the server jar's code): the messages' JSON (:user_json, :assistant_json), their
-- search words as the server builds them (:user_words, :assistant_words; NULL when the server runs with
-- --search-index false), the change log's encoded copy (:logged) and the bytes the turn adds (:turn_bytes). One
-- pgbench "transaction" is one turn. Each client has its conversation in tenant :tenant, thread id = its client id,
-- conversation_id = :first_cid + client id (made by the benchmark before each run, with no messages); its message
-- count (:n) and history bytes (:hb) are kept in pgbench's variables (which last across turns) instead of being
-- read with \gset from the locked row, because pgbench cannot \gset inside a pipeline. Differences left: the message
-- ids are the positions (pgbench has no string arithmetic), and the times are now() (pgbench cannot make one).
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
  message_count = :n2, history_bytes = :hb2, expire_time = NULL WHERE conversation_id = :cid),
  logged AS (INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages,
  commit_time, metadata_before, metadata) SELECT :tenant, revision, :client_id, 1, :n, :n2, CAST(:logged AS bytea),
  now(), NULL, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m JOIN conversations c
  ON c.conversation_id = m.conversation_id WHERE c.tenant = :tenant AND c.thread_id = :client_id) FROM taken)
  SELECT revision FROM taken;
COMMIT;
\endpipeline
\set n :n2
\set hb :hb2
\startpipeline
BEGIN;
SELECT conversation_id, version, message_count, history_bytes, update_time, expire_time FROM conversations
  WHERE tenant = :tenant AND thread_id = :client_id FOR UPDATE;
\endpipeline
\startpipeline
WITH taken AS (UPDATE tenants SET revision = revision + 1 WHERE tenant = :tenant RETURNING revision),
  updated AS (UPDATE conversations SET version = (SELECT revision FROM taken), update_time = now(),
  message_count = :n, history_bytes = :hb, expire_time = NULL, cache_info = coalesce((SELECT jsonb_object_agg(n, v)
  FROM unnest(CAST(:cache_names AS text[]), CAST(:cache_values AS bigint[])) AS t (n, v)), '{}'::jsonb)
  WHERE conversation_id = :cid),
  logged AS (INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages,
  commit_time, metadata_before, metadata) SELECT :tenant, revision, :client_id, 3, :n, :n, CAST(:no_messages AS bytea),
  now(), NULL, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m JOIN conversations c
  ON c.conversation_id = m.conversation_id WHERE c.tenant = :tenant AND c.thread_id = :client_id) FROM taken)
  SELECT revision FROM taken;
COMMIT;
\endpipeline
