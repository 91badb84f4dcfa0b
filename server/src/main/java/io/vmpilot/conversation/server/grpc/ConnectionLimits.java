package io.vmpilot.conversation.server.grpc;

import java.time.Duration;

/**
 * What one client connection may hold of the server, set on grpc-java's Netty transport. They bound what a slow or
 * hostile client can pin: calls open at once, bytes buffered per stream, and how long a connection lives.
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
 */
public record ConnectionLimits(int maxConcurrentCallsPerConnection, int flowControlWindowBytes,
    Duration maxConnectionIdle, Duration maxConnectionAge, Duration maxConnectionAgeGrace,
    Duration permitKeepAliveTime) {

  public static final ConnectionLimits DEFAULTS = new ConnectionLimits(128, 1 << 20, Duration.ofMinutes(15),
      Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(30));
}
