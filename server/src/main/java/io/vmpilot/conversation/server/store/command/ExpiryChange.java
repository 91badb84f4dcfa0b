package io.vmpilot.conversation.server.store.command;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What a write does to its conversation's own expire time: keep it (the default; a new conversation has none),
 * clear it, set it to an instant, or set it to the write's time plus a duration (a TTL, resolved by the write rules
 * with the time they stamp the write with, so one clock decides). The service layer checks the values.
 */
public record ExpiryChange(Kind kind, Instant at, Duration ttl) {
  /** Which of the four changes. */
  public enum Kind { KEEP, CLEAR, AT, AFTER }

  public static final ExpiryChange KEEP = new ExpiryChange(Kind.KEEP, null, null);
  public static final ExpiryChange CLEAR = new ExpiryChange(Kind.CLEAR, null, null);

  public ExpiryChange {
    Objects.requireNonNull(kind, "kind");
    if ((kind == Kind.AT) != (at != null) || (kind == Kind.AFTER) != (ttl != null)) {
      throw new IllegalArgumentException("an expiry change of kind " + kind + " with at=" + at + ", ttl=" + ttl);
    }
  }

  public static ExpiryChange at(Instant at) {
    return new ExpiryChange(Kind.AT, at, null);
  }

  public static ExpiryChange after(Duration ttl) {
    return new ExpiryChange(Kind.AFTER, null, ttl);
  }

  /** The expire time after this change of a conversation whose expire time was {@code current} (null: none). */
  public Instant apply(Instant current, Instant now) {
    return switch (kind) {
      case KEEP -> current;
      case CLEAR -> null;
      case AT -> at;
      case AFTER -> now.plus(ttl);
    };
  }
}
