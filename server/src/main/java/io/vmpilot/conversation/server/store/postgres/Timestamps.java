package io.vmpilot.conversation.server.store.postgres;

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
}
