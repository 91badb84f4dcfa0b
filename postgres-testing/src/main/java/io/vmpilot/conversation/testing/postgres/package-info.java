/**
 * Throwaway PostgreSQL clusters for tests and the benchmark: real {@code postgres} processes from the binaries that
 * {@code scripts/install-postgres} installs, each on its own data directory, free port and socket directory, removed
 * when closed. Uses the JDK only (no JDBC driver: SQL goes through {@code psql}), so that the server's tests, the
 * integration tests and the benchmark can all depend on it without pulling anything else in;
 * {@code ThrowawayPostgresExtension} gives a JUnit 5 test class one cluster (JUnit's API is provided by the tests).
 */
package io.vmpilot.conversation.testing.postgres;
