package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;

/**
 * The last storage failure of a write (disk full, I/O error, a failed sync), until a later batch commits without
 * one: what health checks read. Written by the acknowledger, read by any thread.
 */
final class StorageFailureState {
  private volatile StoreException failure;
  private volatile long failureNanos;

  void failed(StoreException e) {
    failureNanos = System.nanoTime();
    failure = e;
  }

  /** A write reached the disk again. */
  void recovered() {
    failure = null;
  }

  /** The storage failure of the last failed write, or null once a write has committed since. */
  StoreException failure() {
    return failure;
  }

  /** When {@link #failure()} happened ({@link System#nanoTime()}). */
  long failureNanos() {
    return failureNanos;
  }
}
