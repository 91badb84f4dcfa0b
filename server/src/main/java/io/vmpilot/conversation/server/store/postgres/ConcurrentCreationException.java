package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.sql.SQLException;

/**
 * Another transaction created the conversation after this one looked for it: this one is run again from the start,
 * and then finds (and locks) the row. Carries SQLSTATE 40001 so that it is retried like a serialization failure.
 */
final class ConcurrentCreationException extends SQLException {
  ConcurrentCreationException(ThreadKey key) {
    super("conversation " + key.threadId() + " was created by a concurrent write", PostgresFailures.SERIALIZATION_FAILURE);
  }
}
