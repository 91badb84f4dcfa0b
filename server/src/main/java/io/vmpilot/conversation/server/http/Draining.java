package io.vmpilot.conversation.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Counts the requests in flight so that a shutdown waits for them, and them only. The JDK's
 * {@code HttpServer.stop(delay)} also waits for idle keep-alive connections, which a browser or HTTP client holds
 * open for minutes, so it would always take the whole grace period; instead new requests are refused with 503
 * once stopping began, the ones in flight are waited for, and then the server is stopped at once.
 */
final class Draining {
  private final Object lock = new Object();
  private int inFlight;
  private boolean stopping;

  HttpHandler wrap(HttpHandler handler) {
    return exchange -> {
      synchronized (lock) {
        if (stopping) {
          refuse(exchange);
          return;
        }
        inFlight++;
      }
      try {
        handler.handle(exchange);
      } finally {
        synchronized (lock) {
          inFlight--;
          lock.notifyAll();
        }
      }
    };
  }

  /** Refuses new requests from now on; returns once none is in flight, or after {@code grace}. */
  boolean drain(Duration grace) throws InterruptedException {
    long deadline = System.nanoTime() + grace.toNanos();
    synchronized (lock) {
      stopping = true;
      while (inFlight > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        lock.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  private static void refuse(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = ProtoJson.error(com.google.rpc.Status.newBuilder()
          .setCode(com.google.rpc.Code.UNAVAILABLE_VALUE).setMessage("the server is shutting down").build())
          .getBytes(StandardCharsets.UTF_8);
      SecurityHeaders.apply(exchange.getResponseHeaders());
      exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
      exchange.getResponseHeaders().set("Connection", "close");
      exchange.sendResponseHeaders(503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
