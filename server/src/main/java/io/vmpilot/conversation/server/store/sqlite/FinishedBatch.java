package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;
import java.util.List;

/**
 * A batch the writer is done with, for the {@link Acknowledger}: {@code writes} and {@code bytes} committed (0 if
 * it rolled back), the store revision its commit reached (0 if none), and the storage failure it ran into, if any.
 */
record FinishedBatch(List<PendingWrite<?>> batch, long writes, long bytes, long revision,
    StoreException storageFailure) {

  /** A batch that committed nothing. */
  static FinishedBatch uncommitted(List<PendingWrite<?>> batch, StoreException storageFailure) {
    return new FinishedBatch(batch, 0, 0, 0, storageFailure);
  }
}
