/**
 * SQL that the SQLite and PostgreSQL backends share word for word ({@code SharedSql}): statements over the tables
 * both schemas define alike (conversations, metadata, Flyway's history). A statement lives here only when it is
 * the same text on both; where the dialects differ (times, upserts of counters, full-text search), each backend
 * keeps its own. Uses JDBC, the store's records and {@code store.write.ConversationRow}; the two SQL backends depend on it.
 */
package io.vmpilot.conversation.server.store.sql;
