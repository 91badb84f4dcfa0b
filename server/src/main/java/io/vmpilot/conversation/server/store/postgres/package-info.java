/**
 * The PostgreSQL backend: conversations in a database that any number of servers share, with no coordination but
 * the database (row locks, a version counter per tenant, unique keys). Implements the write primitives that
 * {@code store.write.WriteRules} runs, the reads, connection pooling (HikariCP), the schema (Flyway,
 * {@code db/migration/postgres}) and the translation of SQLSTATEs into the store's exceptions. May use
 * {@code store}, {@code store.command}, {@code store.error} and {@code store.write}; nothing outside the store.
 */
package io.vmpilot.conversation.server.store.postgres;
