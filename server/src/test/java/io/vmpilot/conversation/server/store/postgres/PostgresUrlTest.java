package io.vmpilot.conversation.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PostgresUrlTest {
  @Test
  void aLibpqUriBecomesAJdbcUrlWithItsUserAndParameters() {
    PostgresUrl url = PostgresUrl.parse(
        "postgresql://conv@db.example.com:6432/conversations?sslmode=verify-full&application_name=a%20b");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6432/conversations");
    assertThat(url.user()).contains("conv");
    assertThat(url.password()).isEmpty();
    assertThat(url.properties()).isEqualTo(Map.of("sslmode", "verify-full", "ApplicationName", "a b"));
  }

  @Test
  void defaultsAndSeveralHostsAsLibpqHasThem() {
    assertThat(PostgresUrl.parse("postgres:///db").jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/db");
    assertThat(PostgresUrl.parse("postgresql://h1,h2:5433/db?target_session_attrs=read-write"))
        .satisfies(u -> {
          assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://h1:5432,h2:5433/db");
          assertThat(u.properties()).containsEntry("targetServerType", "primary");
        });
    assertThat(PostgresUrl.parse("postgresql://[::1]:5999/db").jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5999/db");
  }

  @Test
  void aPasswordInTheUrlIsReadButNeverShown() {
    PostgresUrl url = PostgresUrl.parse("postgresql://conv:s%40cret@db:5432/c");
    assertThat(url.user()).contains("conv");
    assertThat(url.password()).contains("s@cret");
    assertThat(PostgresUrl.redacted("postgresql://conv:s%40cret@db:5432/c")).isEqualTo("postgresql://conv:***@db:5432/c");
    assertThat(PostgresUrl.redacted("jdbc:postgresql://db/c?user=u&password=pw&ssl=true"))
        .isEqualTo("jdbc:postgresql://db/c?user=u&password=***&ssl=true");
    assertThat(PostgresUrl.redacted("postgresql://db:5432/c")).isEqualTo("postgresql://db:5432/c");
  }

  @Test
  void aJdbcUrlIsTakenAsItIs() {
    PostgresUrl url = PostgresUrl.parse("jdbc:postgresql://db:5432/c?ssl=true");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/c?ssl=true");
    assertThat(url.user()).isEqualTo(Optional.empty());
  }

  @Test
  void whatCannotWorkIsRefusedWithTheReason() {
    assertThatThrownBy(() -> PostgresUrl.parse("mysql://db/c")).hasMessageContaining("postgresql://");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://%2Fvar%2Frun%2Fpostgresql/c"))
        .hasMessageContaining("Unix socket");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://db:99999/c")).hasMessageContaining("port");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://db/c?target_session_attrs=whatever"))
        .hasMessageContaining("target_session_attrs");
  }

  @Test
  void settingsNeverPrintThePassword() {
    PostgresSettings settings = new PostgresSettings("postgresql://u:urlsecret@db/c", Optional.empty(),
        Optional.of("envsecret"), 3, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1), 10, 10);
    assertThat(settings.toString()).doesNotContain("urlsecret").doesNotContain("envsecret");
    assertThat(settings.displayUrl()).doesNotContain("urlsecret");
  }
}
