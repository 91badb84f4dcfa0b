package io.vmpilot.conversation.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ThrowawayPostgresTest {
  @Test
  void aClusterSyncsKeepsCommittedDataThroughACrashAndIsRemovedWhenClosed() {
    Path data;
    try (ThrowawayPostgres pg = ThrowawayPostgres.launch()) {
      assertThat(pg.psql("postgres", "SHOW fsync")).isEqualTo("on");
      assertThat(pg.psql("postgres", "SHOW synchronous_commit")).isEqualTo("on");
      assertThat(pg.psql("postgres", "SHOW listen_addresses")).isEqualTo("127.0.0.1");
      assertThat(pg.psql("postgres", "SHOW port")).isEqualTo(Integer.toString(pg.port()));
      pg.createDatabase("t");
      assertThat(pg.psql("t", "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate FROM pg_database"
          + " WHERE datname = current_database()")).isEqualTo("UTF8 C.UTF-8");
      pg.psql("t", "CREATE TABLE k (v text); INSERT INTO k VALUES ('kept')");

      pg.stopImmediately();
      assertThat(pg.isRunning()).isFalse();
      assertThatThrownBy(() -> pg.psql("t", "SELECT 1")).isInstanceOf(IllegalStateException.class);
      pg.start();
      assertThat(pg.psql("t", "SELECT v FROM k")).isEqualTo("kept");
      data = Path.of(pg.psql("postgres", "SHOW data_directory"));
      assertThat(data).exists();
    }
    assertThat(Files.exists(data)).isFalse();
  }

  @Test
  void twoClustersRunSideBySide() {
    try (ThrowawayPostgres a = ThrowawayPostgres.launch(); ThrowawayPostgres b = ThrowawayPostgres.launch()) {
      assertThat(a.port()).isNotEqualTo(b.port());
      a.createDatabase("only_in_a");
      assertThat(a.psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'only_in_a'")).isEqualTo("1");
      assertThat(b.psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'only_in_a'")).isEqualTo("0");
    }
  }
}
