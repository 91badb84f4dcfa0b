package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.threads.DaemonThreads;

/**
 * A daemon thread that runs a loop beside the writer (the checkpointer, the periodic log sync) until
 * {@link #stop}: the loop checks {@link #running()} and sleeps interruptibly, so that stopping wakes it.
 */
final class BackgroundThread {
  private static final long STOP_WAIT_MILLIS = 5_000;

  private final Thread thread;
  private volatile boolean running = true;

  BackgroundThread(String name, Runnable loop) {
    this.thread = DaemonThreads.named(name).newThread(loop);
  }

  void start() {
    thread.start();
  }

  boolean running() {
    return running;
  }

  /** Ends the loop: interrupts its sleep (or sync) and waits a few seconds for it to end. */
  void stop() {
    running = false;
    thread.interrupt();
    try {
      thread.join(STOP_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
