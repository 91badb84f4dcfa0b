package io.vmpilot.conversation.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The extension's life cycle, driven by hand: a running cluster between its callbacks, the loggers quieted meanwhile. */
class ThrowawayPostgresExtensionTest {
  private static final Logger LOGGER = Logger.getLogger("io.vmpilot.test.quieted");

  @Test
  void aClusterRunsBetweenBeforeAllAndAfterAllWithTheLoggersQuietedMeanwhile() {
    LOGGER.setLevel(Level.INFO);
    ThrowawayPostgresExtension extension = ThrowawayPostgresExtension.quieting(Level.OFF, LOGGER.getName());
    assertThatThrownBy(extension::cluster).isInstanceOf(IllegalStateException.class);
    extension.beforeAll(null);
    ThrowawayPostgres cluster = extension.cluster();
    try {
      assertThat(LOGGER.getLevel()).isEqualTo(Level.OFF);
      assertThat(cluster.isRunning()).isTrue();
      assertThat(cluster.psql("postgres", "SELECT 6 * 7").strip()).isEqualTo("42");
    } finally {
      extension.afterAll(null);
    }
    assertThat(cluster.isRunning()).isFalse();
    assertThat(LOGGER.getLevel()).isEqualTo(Level.INFO);
    assertThatThrownBy(extension::cluster).isInstanceOf(IllegalStateException.class);
  }
}
