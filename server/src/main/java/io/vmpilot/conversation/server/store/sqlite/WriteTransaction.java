package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;

/** What a write task sees: the writer's connection, inside the batch's transaction, and the commit counter. */
interface WriteTransaction {
  Connection connection();

  /**
   * The next number of the store-wide revision (store_revision), which a write takes so that its batch commits and
   * durable reads can wait for it. Not a conversation's version (those are per tenant); never sent to clients.
   */
  long nextVersion();

  /**
   * Says that this task wrote rows without taking a version (pruning the change log), so that its batch commits:
   * a task that took no version is otherwise taken to have written nothing.
   */
  void wroteWithoutVersion();

  /** Counts message bytes this task wrote, for the store's statistics. */
  void countBytesWritten(long bytes);

  /** The batch's messages whose words are still to be indexed ({@link PendingSearchWords}). */
  PendingSearchWords searchWords();
}
