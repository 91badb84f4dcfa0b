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

  /** Counts message bytes this task wrote, for the store's statistics. */
  void countBytesWritten(long bytes);
}
