package io.vmpilot.conversation.testing.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throwaway cluster for a test class (JUnit 5): launched before its first test, closed after its last, with the
 * named loggers (a pool's, a migration tool's) quieted to a level meanwhile and restored afterwards, so that a
 * database the tests stop on purpose does not fill the output. Register it on a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ThrowawayPostgresExtension POSTGRES =
 *     ThrowawayPostgresExtension.quieting(Level.WARNING, "com.zaxxer.hikari", "org.flywaydb");
 * ... POSTGRES.cluster().url("db") ...
 * }</pre>
 */
public final class ThrowawayPostgresExtension implements BeforeAllCallback, AfterAllCallback {
  private final Level level;
  private final List<String> loggerNames;
  /** Held while quieted: java.util.logging keeps loggers weakly, and a level set on a collected one is lost. */
  private final List<Logger> quieted = new ArrayList<>();
  private final List<Level> previous = new ArrayList<>();
  private ThrowawayPostgres cluster;

  private ThrowawayPostgresExtension(Level level, List<String> loggerNames) {
    this.level = level;
    this.loggerNames = List.copyOf(loggerNames);
  }

  /** A cluster per test class, with the loggers {@code loggerNames} set to {@code level} while it runs. */
  public static ThrowawayPostgresExtension quieting(Level level, String... loggerNames) {
    return new ThrowawayPostgresExtension(level, List.of(loggerNames));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    for (String name : loggerNames) {
      Logger logger = Logger.getLogger(name);
      quieted.add(logger);
      previous.add(logger.getLevel());
      logger.setLevel(level);
    }
    cluster = ThrowawayPostgres.launch();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      cluster = null;
      for (int i = 0; i < quieted.size(); i++) {
        quieted.get(i).setLevel(previous.get(i));
      }
      quieted.clear();
      previous.clear();
    }
  }

  /** The running cluster; only between the class's first and last test. */
  public ThrowawayPostgres cluster() {
    if (cluster == null) {
      throw new IllegalStateException("the cluster runs only while the test class does (register the extension"
          + " on a static field with @RegisterExtension)");
    }
    return cluster;
  }
}
