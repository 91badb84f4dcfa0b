package io.vmpilot.conversation.server.metrics;

import io.vmpilot.conversation.server.grpc.WatchStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The Watch figures (docs/operations.md): {@code conversation_watch_watchers} (streams open),
 * {@code conversation_watch_events_total} (events sent) and {@code conversation_watch_cutoffs_total} with a
 * {@code reason} label (streams the server ended). They read the running server's {@link WatchStats}, which exists
 * only once the server is up, after the metrics endpoint: until then they read 0.
 */
public final class WatchFigures {
  private WatchFigures() {}

  /** {@code others} followed by the Watch figures of whatever {@code stats} gives at each scrape. */
  public static List<MetricsEndpoint.Figure> plus(List<MetricsEndpoint.Figure> others, Supplier<WatchStats> stats) {
    List<MetricsEndpoint.Figure> all = new ArrayList<>(others);
    all.add(new MetricsEndpoint.Figure("conversation.watch.watchers", "Watch streams open", null, false,
        read(stats, WatchStats::open)));
    all.add(new MetricsEndpoint.Figure("conversation.watch.events", "Watch events sent, on every stream", null, true,
        read(stats, WatchStats::eventsSent)));
    for (WatchStats.CutOff reason : WatchStats.CutOff.values()) {
      all.add(new MetricsEndpoint.Figure("conversation.watch.cutoffs", "Watch streams the server ended, by reason"
          + " (a stream the client cancels is not counted)", null, true, read(stats, s -> s.cutOff(reason)),
          Map.of("reason", reason.name())));
    }
    return all;
  }

  private static java.util.function.LongSupplier read(Supplier<WatchStats> stats, ToLongFunction<WatchStats> f) {
    return () -> {
      WatchStats s = stats.get();
      return s == null ? 0 : f.applyAsLong(s);
    };
  }
}
