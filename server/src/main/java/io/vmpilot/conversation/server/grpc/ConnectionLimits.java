package io.vmpilot.conversation.server.grpc;

import java.time.Duration;

/**
 * What one client connection and call may hold of the server, set on grpc-java's Netty transport. They bound what a
 * slow or hostile client can pin: calls open at once, bytes buffered per stream, how long a connection lives, and
 * how long a call may take.
 *
 * @param maxConcurrentCallsPerConnection streams one connection may have open at once; more wait (HTTP/2
 *     {@code SETTINGS_MAX_CONCURRENT_STREAMS})
 * @param flowControlWindowBytes the HTTP/2 window of each stream and connection: what a client may send before
 *     the server has read it. Fixed, which also turns off grpc-java's growing of the window (BDP auto-tuning).
 * @param maxConnectionIdle a connection without a call for this long is closed gracefully (GOAWAY); zero: never
 * @param maxConnectionAge a connection older than this is closed gracefully; zero: never
 * @param maxConnectionAgeGrace how long the calls of a connection closed for its age may still take; then it is cut
 * @param permitKeepAliveTime the shortest interval between a client's keepalive pings the server accepts; a client
 *     pinging more often is sent GOAWAY ({@code ENHANCE_YOUR_CALM})
 * @param maxCallTime the longest deadline a call of the conversation service gets, response sending included (see
 *     {@link CallTimeLimit})
 * @param networkThreads the event loops connections are spread over, one thread per connection
 *     ({@link NetworkThreads}): how many other connections a busy one holds up
 */
public record ConnectionLimits(int maxConcurrentCallsPerConnection, int flowControlWindowBytes,
    Duration maxConnectionIdle, Duration maxConnectionAge, Duration maxConnectionAgeGrace,
    Duration permitKeepAliveTime, Duration maxCallTime, int networkThreads) {

  public static final ConnectionLimits DEFAULTS = new ConnectionLimits(128, 1 << 20, Duration.ofMinutes(15),
      Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofSeconds(120),
      defaultNetworkThreads());

  /** 16, or twice the processors where that is more (grpc-java's own default). */
  public static int defaultNetworkThreads() {
    return Math.max(16, 2 * Runtime.getRuntime().availableProcessors());
  }
}
