package io.vmpilot.conversation.server.store.postgres;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Instants as the JDBC driver passes {@code timestamptz} (microseconds, which is what both keep). */
final class Timestamps {
  private Timestamps() {}

  static OffsetDateTime of(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  static Instant toInstant(OffsetDateTime time) {
    return time.toInstant();
  }

  /** A nullable timestamptz column as an instant (null for NULL); a {@code SharedSql.TimeColumn}. */
  static Instant column(ResultSet rs, int column) throws SQLException {
    OffsetDateTime time = rs.getObject(column, OffsetDateTime.class);
    return time == null ? null : time.toInstant();
  }

  /** A nullable instant as the column's value. */
  static OffsetDateTime orNull(Instant instant) {
    return instant == null ? null : of(instant);
  }
}
