package io.vmpilot.conversation.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import java.time.Duration;

/**
 * Caps the deadline of every call of the conversation service at {@code [server] max_call_seconds}: a call without a
 * deadline gets that one, a call with a later one gets it shortened. When it passes, grpc-java cancels the call and
 * resets its stream, which frees what the stream held; that is what bounds, in time, a client that asks for a big
 * response and never reads it (see {@link InFlightLimiter}).
 *
 * <p>Done as a stream tracer factory because that is the one hook grpc-java runs on a call's headers before it reads
 * their {@code grpc-timeout} (the transport creates the tracers, then hands the headers to the server). An
 * unparseable {@code grpc-timeout} is left as it is, for grpc-java to refuse. Health, reflection and Watch, whose
 * streams may rightly stay open (a Watch holds no response bytes: it sends only while the client reads, and a
 * watcher that falls behind is cut off by its own limit), are left alone.
 */
final class CallTimeLimit extends ServerStreamTracer.Factory {
  private static final Metadata.Key<String> TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
  private static final String SERVICE_PREFIX = ConversationServiceGrpc.SERVICE_NAME + "/";
  private static final String WATCH = ConversationServiceGrpc.getWatchMethod().getFullMethodName();
  private static final ServerStreamTracer NONE = new ServerStreamTracer() { };

  private final long maxNanos;
  private final String header;

  CallTimeLimit(Duration max) {
    this.maxNanos = max.toNanos();
    // grpc-timeout carries at most 8 digits; milliseconds cover up to 27 hours.
    this.header = Math.min(max.toMillis(), 99_999_999L) + "m";
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    if (fullMethodName.startsWith(SERVICE_PREFIX) && !fullMethodName.equals(WATCH)) {
      String given = headers.get(TIMEOUT);
      Long nanos = given == null ? null : parse(given);
      if (given == null || (nanos != null && nanos > maxNanos)) {
        headers.removeAll(TIMEOUT);
        headers.put(TIMEOUT, header);
      }
    }
    return NONE;
  }

  /** A {@code grpc-timeout} value in nanoseconds, or null if it is not one (grpc-java then refuses the call). */
  static Long parse(String value) {
    if (value.length() < 2 || value.length() > 9) {
      return null;
    }
    String digits = value.substring(0, value.length() - 1);
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return null;
      }
    }
    long n = Long.parseLong(digits);
    return switch (value.charAt(value.length() - 1)) {
      case 'n' -> n;
      case 'u' -> n * 1_000L;
      case 'm' -> n * 1_000_000L;
      case 'S' -> n * 1_000_000_000L;
      case 'M' -> n * 60_000_000_000L;
      case 'H' -> n * 3_600_000_000_000L;
      default -> null;
    };
  }
}
