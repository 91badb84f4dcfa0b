package io.vmpilot.conversation.server.store.sqlite;

import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;

/** A write task from its submission to its answer: the outcome of its last run, and the caller's future. */
final class PendingWrite<T> {
  private final GroupCommitWriter.Task<T> task;
  final CompletableFuture<T> future = new CompletableFuture<>();
  private T result;
  RuntimeException failure;
  /** The task failed because the storage did (disk full, I/O error), not because of what it asked for. */
  boolean storageFailure;

  PendingWrite(GroupCommitWriter.Task<T> task) {
    this.task = task;
  }

  void run(WriteTransaction tx) throws SQLException {
    result = task.run(tx);
  }

  /** Forgets the outcome of a run that was rolled back, before the task runs again. */
  void reset() {
    result = null;
    failure = null;
    storageFailure = false;
  }

  void complete() {
    if (failure != null) {
      future.completeExceptionally(failure);
    } else {
      future.complete(result);
    }
  }
}
