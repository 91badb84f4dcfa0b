package io.vmpilot.conversation.server;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Runs a graceful stop once on SIGTERM or SIGINT, so that the server finishes its work, logs it, and exits 0.
 */
final class ShutdownSignals {
  private static final AtomicBoolean STARTED = new AtomicBoolean();
  private static final CountDownLatch DONE = new CountDownLatch(1);

  private ShutdownSignals() {}

  static void onTermination(Runnable stop) {
    Runnable once = () -> {
      if (STARTED.compareAndSet(false, true)) {
        try {
          stop.run();
        } finally {
          DONE.countDown();
        }
      }
    };
    Signal.handle(new Signal("TERM"), signal -> once.run());
    Signal.handle(new Signal("INT"), signal -> once.run());
  }

  /** Waits for a stop that a signal started to finish; returns at once if none was started. */
  static void awaitHandled() {
    if (!STARTED.get()) {
      return;
    }
    try {
      DONE.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
