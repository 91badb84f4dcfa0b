package io.vmpilot.conversation.server.store.sqlite;

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
}
