package io.vmpilot.conversation.server.grpc;

import java.time.Duration;

/**
 * How Watch treats its watchers and how long the change log is kept ({@code [watch]} settings).
 *
 * @param logRetention how long a change stays in the change log, so how long a watcher may be away and still
 *     resume without a gap
 * @param maxLagEvents how many changes a watcher may fall behind the newest before it is cut off
 */
public record WatchSettings(Duration logRetention, int maxLagEvents) {
  public static final WatchSettings DEFAULTS = new WatchSettings(Duration.ofHours(24), 10_000);

  public WatchSettings {
    if (logRetention.isNegative() || logRetention.isZero()) {
      throw new IllegalArgumentException("the change log's retention must be positive");
    }
    if (maxLagEvents < 1) {
      throw new IllegalArgumentException("max_lag_events must be positive");
    }
  }
}
