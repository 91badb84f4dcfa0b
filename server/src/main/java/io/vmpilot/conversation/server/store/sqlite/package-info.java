/**
 * The SQLite backend, one file in WAL mode. {@code SqliteConversationStore} opens and wires it: Flyway migrations
 * and connection pools ({@code SqliteDataSources}, {@code DatabaseLock}), the one writer ({@code GroupCommitWriter}
 * with its {@code BatchRunner}, {@code WriterConnection} and {@code Acknowledger}, which syncs the log through
 * {@code LogSync} before any caller hears back, and {@code IndexMerges}, the search index's merges between batches), the write primitives in SQL ({@code SqliteStorageTransaction},
 * with the writer's memory of rows and client ids), reads on their own connections ({@code SqliteReads}), health
 * and stats ({@code SqliteHealth}) and the WAL checkpointer. SQLite's errors become {@code store.error}
 * exceptions in {@code SqliteFailures}. Uses the store packages and the SQLite driver; only {@code Main} and tests
 * depend on it.
 */
package io.vmpilot.conversation.server.store.sqlite;
