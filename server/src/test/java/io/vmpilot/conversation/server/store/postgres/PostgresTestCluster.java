package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.testing.postgres.ThrowawayPostgresExtension;
import java.util.logging.Level;

/** The cluster of a PostgreSQL store test class, with the pool's, Flyway's and the data source's loggers quieted. */
final class PostgresTestCluster {
  private PostgresTestCluster() {}

  /** For a static {@code @RegisterExtension} field; {@code level}: what the quieted loggers still print. */
  static ThrowawayPostgresExtension quieting(Level level) {
    return ThrowawayPostgresExtension.quieting(level, "com.zaxxer.hikari", "org.flywaydb",
        PostgresDataSource.class.getName());
  }
}
