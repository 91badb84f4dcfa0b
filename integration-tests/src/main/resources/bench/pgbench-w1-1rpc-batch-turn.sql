-- W1-1rpc's turn batched K to a transaction, for pgbench (docs/benchmark.md, "Does batching several requests per
-- transaction pay on PostgreSQL?"): what a server that gathers K concurrent Appends of one tenant into one
-- transaction would send. PgbenchTurn.Batching fills in K and the per-conversation lists (the @...@ markers). Each
-- pgbench client owns K conversations of tenant :tenant (thread ids client_id * K + j, conversation_id :first_cid +
-- thread id, made by the benchmark before each run), all at the same message count, so that one pgbench
-- "transaction" is K turns, one per conversation, with the values of pgbench-w1-1rpc-turn.sql (see there and
-- pgbench-w1-turn.sql). Same two round trips: BEGIN with the rows' locks and the ids' look-up; then one statement
-- that writes the 2K messages, takes K versions at once from the tenant's counter (revision + K, the versions
-- revision - K + 1 .. revision, one per conversation in order), updates the K rows, inserts K change log entries,
-- with the COMMIT.
-- Lock order: the conversations' rows first, in ascending conversation_id (ORDER BY ... FOR UPDATE locks them in
-- that order), the tenant's counter row last, in the statement that commits, as the server takes it today. Every
-- transaction takes its locks in that one order, so no two can wait for each other in a cycle (here the clients'
-- conversations do not even overlap); and the counter, the one lock all clients share, is held only from the last
-- statement to the commit's flush.
@SETS@
\set n1 :n + 1
\set n2 :n + 2
\set hb2 :hb + :turn_bytes
\startpipeline
BEGIN;
SELECT conversation_id, version, message_count, history_bytes, update_time, expire_time FROM conversations
  WHERE tenant = :tenant AND thread_id = ANY (ARRAY[@THREADS@]::text[]) ORDER BY conversation_id FOR UPDATE;
SELECT conversation_id, message_id FROM messages WHERE conversation_id = ANY (ARRAY[@CIDS@]::bigint[])
  AND message_id = ANY (ARRAY[:n, :n1]::text[]);
\endpipeline
\startpipeline
WITH batch (j, thread_id, conversation_id) AS (VALUES @BATCH@),
  inserted AS (INSERT INTO messages (conversation_id, position, message_id, json, create_time, search)
  VALUES @MESSAGES@),
  taken AS (UPDATE tenants SET revision = revision + @K@ WHERE tenant = :tenant RETURNING revision),
  updated AS (UPDATE conversations c SET version = (SELECT revision FROM taken) - @K@ + 1 + b.j, update_time = now(),
  message_count = :n2, history_bytes = :hb2, expire_time = NULL, cache_info = c.cache_info || coalesce((SELECT jsonb_object_agg(n, v)
  FROM unnest(CAST(:cache_names AS text[]), CAST(:cache_values AS bigint[])) AS t (n, v)), '{}'::jsonb)
  FROM batch b WHERE c.conversation_id = b.conversation_id),
  logged AS (INSERT INTO change_log (tenant, version, thread_id, kind, first_position, message_count, messages,
  commit_time, metadata_before, metadata) SELECT :tenant, t.revision - @K@ + 1 + b.j, b.thread_id, 1, :n, :n2,
  CAST(:logged AS bytea), now(), NULL, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m
  WHERE m.conversation_id = b.conversation_id) FROM taken t, batch b)
  SELECT revision FROM taken;
COMMIT;
\endpipeline
\set n :n2
\set hb :hb2
