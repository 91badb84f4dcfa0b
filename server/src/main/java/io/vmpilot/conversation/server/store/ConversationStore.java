package io.vmpilot.conversation.server.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Where conversations live. Every mutation is atomic and durable (to the backend's durability level) when
 * the method returns; a method that throws has changed nothing. Implementations are thread-safe.
 *
 * <p>Versions come from one store-wide counter, so a thread's version never repeats, even across clear and
 * re-creation. A conversation that does not exist has version 0.
 *
 * <p>Failures: {@link VersionMismatchException}, {@link ConversationNotFoundException},
 * {@link HistoryTooLargeException}, {@link StoreUnavailableException}.
 */
public interface ConversationStore extends AutoCloseable {
  /**
   * The largest write (in serialized request bytes) the gRPC service submits from a network thread; larger ones it
   * submits from its executor, where a backend's {@code *Async} method may wait for a read. A command whose
   * messages alone are larger therefore never comes from a network thread.
   */
  int NETWORK_THREAD_WRITE_BYTES = 64 * 1024;

  SaveResult save(SaveCommand command);

  Optional<Conversation> get(ThreadKey key, MessageWindow window);

  /** Replaces the cache info; returns the new version. */
  long updateCache(ThreadKey key, Map<String, Long> cacheInfo, OptionalLong expectedVersion);

  /** Deletes the conversation; returns whether there was one. */
  boolean clear(ThreadKey key, OptionalLong expectedVersion);

  AppendResult append(AppendCommand command);

  /**
   * The mutations without a thread waiting for them: the future completes once the write is durable (or fails
   * with the exception the blocking method would throw). The gRPC service calls these on the network threads
   * (for requests up to {@link #NETWORK_THREAD_WRITE_BYTES}), so there they must not wait for I/O: a backend
   * whose writes wait for a disk or a network overrides them (SQLite: queue the write for the group commit). The
   * defaults run the blocking method on the caller's thread, which suits only a backend that never waits
   * (memory).
   */
  default CompletableFuture<SaveResult> saveAsync(SaveCommand command) {
    return completed(() -> save(command));
  }

  default CompletableFuture<Long> updateCacheAsync(ThreadKey key, Map<String, Long> cacheInfo,
      OptionalLong expectedVersion) {
    return completed(() -> updateCache(key, cacheInfo, expectedVersion));
  }

  default CompletableFuture<Boolean> clearAsync(ThreadKey key, OptionalLong expectedVersion) {
    return completed(() -> clear(key, expectedVersion));
  }

  default CompletableFuture<AppendResult> appendAsync(AppendCommand command) {
    return completed(() -> append(command));
  }

  private static <T> CompletableFuture<T> completed(Supplier<T> mutation) {
    try {
      return CompletableFuture.completedFuture(mutation.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Up to {@code query.limit()} summaries, newest version first. */
  List<ConversationSummary> list(ListQuery query);

  /** Throws {@link StoreUnavailableException} when the storage cannot be used right now. */
  void checkHealth();

  StoreStats stats();

  /** Finishes the writes already accepted, then releases the storage. */
  @Override
  void close();
}
