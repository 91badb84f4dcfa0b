package io.vmpilot.conversation.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgresExtension;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.logging.Level;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A database from before per-tenant versions (V14) keeps its promise that a thread's version never repeats: every
 * tenant's counter, and that of every tenant created later, starts above every version the old store-wide sequence
 * handed out, including those of conversations cleared before the migration.
 */
class PostgresVersionFloorTest {
  @RegisterExtension
  static final ThrowawayPostgresExtension POSTGRES = PostgresTestCluster.quieting(Level.WARNING);

  @Test
  void countersStartAboveEveryVersionTheSequenceHandedOut() {
    PostgresSettings settings = PostgresConversationStoreTest.newDatabase(POSTGRES.cluster(), 1 << 20, Long.MAX_VALUE);
    String database = settings.url().substring(settings.url().lastIndexOf('/') + 1);
    Flyway.configure().dataSource(POSTGRES.cluster().jdbcUrl(database), ThrowawayPostgres.SUPERUSER, null)
        .locations("classpath:db/migration/postgres").target("12").load().migrate();
    // The old schema's state: "kept" has a conversation at the sequence's last version; "emptied" had one at
    // version 400 that was cleared (its row stays at 0 conversations).
    POSTGRES.cluster().psql(database, "SELECT setval('store_revision', 500);"
        + " INSERT INTO tenants (tenant, conversations) VALUES ('kept', 1), ('emptied', 0);"
        + " INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
        + " history_bytes) VALUES ('kept', 't', nextval('store_revision'), now(), now(), 0, 0)");

    try (PostgresConversationStore store = PostgresConversationStore.open(settings)) {
      assertThat(store.append(append("kept", "t")).version()).isEqualTo(502);
      // A thread created again never gets a version its earlier self had (400), nor one of another tenant's.
      assertThat(store.save(save("emptied", "gone")).version()).isEqualTo(502);
      // A tenant that did not exist before the migration starts at the floor too.
      assertThat(store.save(save("fresh", "t")).version()).isEqualTo(502);
      // From then on each counter moves only with its own tenant's writes.
      assertThat(store.append(append("kept", "t")).version()).isEqualTo(503);
      assertThat(store.append(append("fresh", "t")).version()).isEqualTo(503);
    }
    assertThat(POSTGRES.cluster().psql(database, "SELECT tenant || '=' || revision FROM tenants ORDER BY tenant"))
        .isEqualTo("emptied=502\nfresh=503\nkept=503");
    assertThat(POSTGRES.cluster().psql(database, "SELECT count(*) FROM pg_class WHERE relname = 'store_revision'"))
        .as("the sequence is gone, so no server of an earlier release can hand out a version twice").isEqualTo("0");
  }

  private static AppendCommand append(String tenant, String thread) {
    return new AppendCommand(new ThreadKey(tenant, thread), List.of(new NewMessage("", "{}")), OptionalLong.empty());
  }

  private static SaveCommand save(String tenant, String thread) {
    return new SaveCommand(new ThreadKey(tenant, thread), List.of(), Map.of(), Map.of(), OptionalLong.empty());
  }
}
