package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;

/** What a write task sees: the writer's connection, inside the batch's transaction, and the version counter. */
interface WriteTransaction {
  Connection connection();

  /** The next store-wide version; only the writer thread calls it, so no two mutations share one. */
  long nextVersion();

  /**
   * Says that this task wrote rows without taking a version (pruning the change log), so that its batch commits:
   * a task that took no version is otherwise taken to have written nothing.
   */
  void wroteWithoutVersion();

  /** Counts message bytes this task wrote, for the store's statistics. */
  void countBytesWritten(long bytes);
}
