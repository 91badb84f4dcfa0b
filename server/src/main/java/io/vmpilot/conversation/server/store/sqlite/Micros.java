package io.vmpilot.conversation.server.store.sqlite;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Times as the schema keeps them: microseconds since the epoch in an integer column. */
final class Micros {
  private Micros() {}

  static long of(Instant time) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, time);
  }

  static Instant toInstant(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  /** A nullable time column as an instant (null for NULL); a {@code SharedSql.TimeColumn}. */
  static Instant column(ResultSet rs, int column) throws SQLException {
    long micros = rs.getLong(column);
    return rs.wasNull() ? null : toInstant(micros);
  }

  /** A nullable instant as the column's value. */
  static Long orNull(Instant time) {
    return time == null ? null : of(time);
  }
}
