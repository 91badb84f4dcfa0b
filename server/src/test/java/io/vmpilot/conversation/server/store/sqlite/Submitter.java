package io.vmpilot.conversation.server.store.sqlite;

import java.util.concurrent.Callable;

/**
 * Runs one blocking call on a thread of its own, so that a test can tell (without sleeping) when the call is
 * parked waiting for the writer: a thread waiting in {@code GroupCommitWriter.submit} has queued its write.
 */
final class Submitter<T> extends Thread {
  private final Callable<T> call;
  private volatile T result;
  private volatile Throwable failure;

  private Submitter(String name, Callable<T> call) {
    super(name);
    this.call = call;
    setDaemon(true);
  }

  /** Starts {@code call} and returns once it is parked (its write queued, or its task running and waiting). */
  static <T> Submitter<T> startAndAwaitParked(String name, Callable<T> call) {
    Submitter<T> s = new Submitter<>(name, call);
    s.start();
    s.awaitParked();
    return s;
  }

  @Override
  public void run() {
    try {
      result = call.call();
    } catch (Throwable t) {
      failure = t;
    }
  }

  void awaitParked() {
    while (getState() != State.WAITING && getState() != State.TIMED_WAITING) {
      if (!isAlive()) {
        throw new AssertionError(getName() + " finished before it parked; failure: " + failure, failure);
      }
      Thread.onSpinWait();
    }
  }

  /** Waits for the call to end and returns its result, or throws the failure's AssertionError. */
  T result() throws InterruptedException {
    join();
    if (failure != null) {
      throw new AssertionError(getName() + " failed", failure);
    }
    return result;
  }

  /** Waits for the call to end and returns what it threw (null if it succeeded). */
  Throwable failure() throws InterruptedException {
    join();
    return failure;
  }
}
