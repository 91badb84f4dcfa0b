package io.vmpilot.conversation.server.store;

import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.error.BackupNotSupportedException;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.PositionOutOfRangeException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Where conversations live. Every mutation is atomic and durable (to the backend's durability level) when
 * the method returns; a method that throws has changed nothing. Implementations are thread-safe.
 *
 * <p>Versions come from one counter per tenant that never goes back, so a thread's version never repeats, even
 * across clear and re-creation, and other tenants' writes do not move it. A conversation that does not exist has version 0.
 *
 * <p>Failures: {@link VersionMismatchException}, {@link ConversationNotFoundException},
 * {@link HistoryTooLargeException}, {@link ConversationExistsException}, {@link PositionOutOfRangeException},
 * {@link StoreUnavailableException}.
 */
public interface ConversationStore extends AutoCloseable {
  /**
   * The {@code *Async} methods never wait for I/O for a command whose messages hold at most this many UTF-8 bytes;
   * above it, a backend may read before it queues the write (SQLite finds a long Save's kept prefix that way), so
   * a caller that must not block (a network thread) submits only smaller commands.
   */
  long ASYNC_NEVER_WAITS_UP_TO_BYTES = 1 << 20;

  SaveResult save(SaveCommand command);

  Optional<Conversation> get(ThreadKey key, MessageWindow window);

  /**
   * The size of a conversation's history from its row alone (one row read), or empty when there is none: a hint
   * by which the service tells a read of a large history from a small one before reading it. Not made durable
   * first, and it may still count a conversation that {@code [retention] max_idle} has just hidden: only where the
   * read runs depends on it. By default through {@link #listByThreadId}; each backend reads the row by its key.
   */
  default Optional<HistorySize> historySize(ThreadKey key) {
    return listByThreadId(new ExportQuery(key.tenant(), "", 1, java.util.Map.of(), Optional.empty(),
        Optional.empty(), java.util.Set.of(key.threadId()))).stream().findFirst()
        .map(s -> new HistorySize(s.messageCount(), s.historyBytes()));
  }

  /**
   * How many reads the store runs at once (its reader connections); more wait for one. Callers that run long
   * reads beside short ones keep one back for the short ones ({@code LargeReads}). Unlimited by default.
   */
  default int readConnections() {
    return Integer.MAX_VALUE;
  }

  /** Replaces the cache info; returns the new version. */
  long updateCache(UpdateCacheCommand command);

  /** Deletes the conversation; returns whether there was one. */
  boolean clear(ClearCommand command);

  /** Adds the messages whose ids are not stored yet and sets the command's counters, in one transaction. */
  AppendResult append(AppendCommand command);

  /** Sets and removes metadata keys and cache counters of an existing conversation; returns the new version. */
  long updateMetadata(UpdateMetadataCommand command);

  /**
   * Copies a prefix of a conversation and its metadata into a new one (see {@code WriteRules.fork}). May take as
   * long as the copy: callers on a network thread hand it to another thread.
   */
  ForkResult fork(ForkCommand command);

  /**
   * The mutations without a thread waiting for them: the future completes once the write is durable (or fails
   * with the exception the blocking method would throw). The gRPC service calls these on the network threads
   * (for small requests, see {@link #ASYNC_NEVER_WAITS_UP_TO_BYTES}), so there they must not wait for I/O: a backend
   * whose writes wait for a disk or a network overrides them (SQLite: queue the write for the group commit). The
   * defaults run the blocking method on the caller's thread, which suits only a backend that never waits
   * (memory).
   */
  default CompletableFuture<SaveResult> saveAsync(SaveCommand command) {
    return completed(() -> save(command));
  }

  default CompletableFuture<Long> updateCacheAsync(UpdateCacheCommand command) {
    return completed(() -> updateCache(command));
  }

  default CompletableFuture<Boolean> clearAsync(ClearCommand command) {
    return completed(() -> clear(command));
  }

  default CompletableFuture<AppendResult> appendAsync(AppendCommand command) {
    return completed(() -> append(command));
  }

  default CompletableFuture<Long> updateMetadataAsync(UpdateMetadataCommand command) {
    return completed(() -> updateMetadata(command));
  }

  private static <T> CompletableFuture<T> completed(Supplier<T> mutation) {
    try {
      return CompletableFuture.completedFuture(mutation.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * One batch of the retention sweep, in one short transaction (on SQLite, one task of the writer): deletes up to
   * {@code limit} conversations of the tenants in {@code scope} last updated before {@code updatedBefore}, each as a
   * Clear (see {@code WriteRules.sweepIdle}), and returns their keys. Blocking; not for network threads.
   */
  List<ThreadKey> sweepIdle(Instant updatedBefore, TenantScope scope, int limit);

  /** {@link #sweepIdle(Instant, TenantScope, int)} over every tenant. */
  default List<ThreadKey> sweepIdle(Instant updatedBefore, int limit) {
    return sweepIdle(updatedBefore, TenantScope.ALL, limit);
  }

  /**
   * One batch of the sweep of conversations past their own expire time (set by a write), like {@link #sweepIdle}:
   * deletes up to {@code limit} of them, soonest expired first, and returns their keys.
   */
  List<ThreadKey> sweepExpired(int limit);

  /** The change log that every mutation writes in its own transaction, and the signal of new entries (Watch). */
  ChangeFeed changeFeed();

  /** Up to {@code query.limit()} summaries, newest version first. */
  List<ConversationSummary> list(ListQuery query);

  /**
   * Up to {@code query.limit()} messages of the tenant's conversations that hold every phrase of the query, best
   * first (ties: the conversation, then the position), skipping the first {@code query.offset()}. The index is
   * changed in the same transaction as the messages, so a search sees every acknowledged write.
   */
  List<SearchHit> search(SearchQuery query);

  /**
   * Stores a conversation as a dump holds it, in one transaction: skips it when the stored one is identical, else
   * follows the command's policy ({@link ConversationExistsException} for FAIL). Blocking; not for network threads.
   */
  ImportOutcome importConversation(ImportCommand command);

  /** Up to {@code query.limit()} summaries, ascending thread id after the query's cursor (see {@link ExportQuery}). */
  List<ConversationSummary> listByThreadId(ExportQuery query);

  /** What this store is and what {@code tenant} holds in it. */
  StoreStatus status(String tenant);

  /**
   * Copies the whole store, consistently, to a new file at {@code target} while it keeps serving; returns the
   * copy's size in bytes. The default: {@link BackupNotSupportedException}.
   */
  default long backup(Path target) {
    throw new BackupNotSupportedException(status(ThreadKey.DEFAULT_TENANT).backend());
  }

  /**
   * A secret of at least 32 random bytes, made once for this storage and the same for every server that opens it
   * (and after restarts, for a backend that persists): what the service authenticates the tokens it hands out
   * with (List page tokens). Never sent to a client or logged.
   */
  byte[] tokenKey();

  /** Throws {@link StoreUnavailableException} when the storage cannot be used right now. */
  void checkHealth();

  StoreStats stats();

  /**
   * The connection pools the store works through, each with a name of its own ({@code sqlite-readers},
   * {@code postgres-writers}), so that metrics can report how busy they are; none for a store without pools.
   */
  default List<DataSource> connectionPools() {
    return List.of();
  }

  /** Finishes the writes already accepted, then releases the storage. */
  @Override
  void close();
}
