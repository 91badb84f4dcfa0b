package io.vmpilot.conversation.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

/** SQLSTATEs PostgreSQL reports, and what the store makes of them (the states are PostgreSQL's, appendix A). */
class PostgresFailuresTest {
  private static SQLException state(String sqlState) {
    return new SQLException("from the server", sqlState);
  }

  @Test
  void aFullDiskIsStorageFull() {
    assertThat(PostgresFailures.translate("write", state("53100"), false)).isInstanceOf(StorageFullException.class);
  }

  @Test
  void aLostConnectionSaysWhetherTheWriteMayHaveBeenApplied() {
    assertThat(PostgresFailures.translate("write", state("08006"), false))
        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("nothing was written");
    assertThat(PostgresFailures.translate("write", state("08006"), true))
        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("may or may not have been applied");
    assertThat(PostgresFailures.translate("write", state("57P01"), false)).isInstanceOf(StoreUnavailableException.class);
    assertThat(PostgresFailures.translate("write", new SQLTransientConnectionException("pool timeout"), false))
        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("no connection");
  }

  @Test
  void aReadOnlyDatabaseIsUnavailableLikeSqlites() {
    assertThat(PostgresFailures.readOnly(state("25006"))).isTrue();
    assertThat(PostgresFailures.translate("write", state("25006"), false))
        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("read-only");
  }

  @Test
  void onlySerializationFailuresAndDeadlocksAreRetried() {
    assertThat(PostgresFailures.isRetryable(state("40001"))).isTrue();
    assertThat(PostgresFailures.isRetryable(state("40P01"))).isTrue();
    assertThat(PostgresFailures.isRetryable(state("23505"))).isFalse();
    assertThat(PostgresFailures.isRetryable(state("08006"))).isFalse();
    assertThat(PostgresFailures.translate("write", state("57014"), false)).hasMessageContaining("timed out");
  }
}
