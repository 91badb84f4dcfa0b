package io.vmpilot.conversation.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.BindException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The one line a failed start prints, and which failures are the network's. */
class StartupFailureTest {
  @Test
  void theLineHasEachCauseOnceAndOnlyTheFirstLineOfEach() {
    Exception driver = new SQLException("[SQLITE_NOTADB] file is not a database");
    Exception flyway = new IllegalStateException("Unable to obtain connection: [SQLITE_NOTADB] file is not a database\n"
        + "--------\nSQL State  : null\nError Code : 26", driver);
    assertThat(StartupFailure.describe(flyway))
        .isEqualTo("Unable to obtain connection: [SQLITE_NOTADB] file is not a database");

    Exception bind = new IOException("Failed to bind to address /127.0.0.1:5", new BindException("Address in use"));
    assertThat(StartupFailure.describe(bind)).isEqualTo("Failed to bind to address /127.0.0.1:5: Address in use");
    assertThat(StartupFailure.describe(new RuntimeException((String) null))).isEqualTo("RuntimeException");
    assertThat(StartupFailure.oneLine("a\n  b\r\nc")).isEqualTo("a b c");
  }

  @Test
  void onlyASocketsFailureIsTheNetworks() {
    assertThat(StartupFailure.isSocketFailure(new IOException("x", new BindException("in use")))).isTrue();
    assertThat(StartupFailure.isSocketFailure(new IOException("key.pem holds no key"))).isFalse();
  }

  @Test
  void theExitCodesAreDistinct() {
    assertThat(StartupFailure.CONFIGURATION.exitCode()).isEqualTo(2);
    assertThat(StartupFailure.STORAGE.exitCode()).isEqualTo(3);
    assertThat(StartupFailure.NETWORK.exitCode()).isEqualTo(4);
  }
}
