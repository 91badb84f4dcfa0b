package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The storage primitives of one backend transaction: all that {@link WriteRules} needs to carry out a mutation,
 * and all that a new backend implements to get Save, Append, UpdateCache, Clear, UpdateMetadata and Fork with every rule applied.
 *
 * <p>The backend decides what the transaction is (the memory backend's lock, SQLite's single writer, a database
 * transaction holding the conversation's row lock) and commits it after the rules return (or with
 * {@link #updateAndLog}, the last primitive of a mutation that updates a conversation), or undoes it when they
 * throw. The rules check everything they can before they change anything, so a mutation refused for what it asked
 * (a version mismatch, a limit) has called only {@link #find}, {@link #locate}, {@link #storedIds}, {@link #messages},
 * {@link #counters}, {@link #metadata} and {@link #countConversations}.
 *
 * @param <X> what the primitives throw when the storage fails ({@link java.sql.SQLException} for the SQL
 *     backends, {@link RuntimeException} for those that cannot fail); the rules let it through untouched
 */
public interface StorageTransaction<X extends Exception> {
  /**
   * The conversation's row, or null when there is none. Where several writers share the storage, this is where the
   * row is locked for the rest of the transaction.
   */
  ConversationRow find(ThreadKey key) throws X;

  /**
   * {@link #find} and, when there is a row, {@link #storedIds} of {@code among} (none asked when it is empty): what
   * an Append reads before it writes, in one round trip where the backend can. The ids are read after the row is
   * locked, so they are those of the row found.
   */
  default LocatedRow locate(ThreadKey key, List<NewMessage> among) throws X {
    ConversationRow row = find(key);
    return new LocatedRow(row, row == null || among.isEmpty() ? Set.of() : storedIds(row, among));
  }

  /** How many conversations {@code tenant} has, counting no further than {@code upTo}. */
  long countConversations(String tenant, long upTo) throws X;

  /** Inserts an empty conversation (version 0, no messages, counters and metadata) and returns its row. */
  ConversationRow create(ThreadKey key, Instant now) throws X;

  /** The row's whole history, oldest first: what a Save compares its messages with. */
  List<StoredMessage> messages(ConversationRow row) throws X;

  /** The row's cache counters: what an import compares its record with. */
  Map<String, Long> counters(ConversationRow row) throws X;

  /** The row's metadata: what an import compares its record with. */
  Map<String, String> metadata(ConversationRow row) throws X;

  /** Which of the ids of {@code among} the row's stored messages already carry. */
  Set<String> storedIds(ConversationRow row, List<NewMessage> among) throws X;

  /** Deletes the row's messages at positions {@code keep} and later. */
  void truncate(ConversationRow row, long keep) throws X;

  /** Stores {@code messages} at positions {@code firstPosition}, {@code firstPosition + 1}, ... */
  void insert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now) throws X;

  /** Sets the given metadata entries, keeping the others. */
  void mergeMetadata(ConversationRow row, Map<String, String> entries) throws X;

  /** Deletes the given metadata keys and cache counters of the row; keys it does not hold are ignored. */
  void removeEntries(ConversationRow row, Set<String> metadataKeys, Set<String> counterKeys) throws X;

  /**
   * Copies into {@code to} (just created, empty) the messages of {@code from} at positions before
   * {@code endPosition}, with their ids, positions and times, and all of {@code from}'s metadata; returns the UTF-8
   * bytes of the messages copied. SQL backends copy inside the database, without reading the messages out.
   */
  long copy(ConversationRow from, ConversationRow to, long endPosition) throws X;

  /**
   * The next version of {@code tenant}'s conversations: one counter per tenant, increasing, never reset (not when
   * the tenant's last conversation is deleted), so a version never repeats for a thread, and a tenant's versions
   * move only with that tenant's writes. Where several writers share the storage, the counter is locked until the
   * transaction ends, so a tenant's versions increase in commit order.
   */
  long nextVersion(String tenant) throws X;

  /**
   * Writes the row's new version, sizes, update time and expire time, and changes its counters as {@code change}
   * says.
   */
  void update(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters) throws X;

  /**
   * Takes the tenant's next version ({@link #nextVersion}) and, at that version, writes {@code row}
   * ({@link #update}) and adds {@code entry} to the change log ({@link #logChange}); returns the version. The
   * versions {@code row} and {@code entry} carry are ignored. It is the last primitive of a mutation that updates a
   * conversation (the rules call nothing after it), so a backend may send it with the transaction's commit and
   * hold the tenant's counter for that one statement only.
   */
  default long updateAndLog(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters,
      LoggedChange entry) throws X {
    long version = nextVersion(row.key().tenant());
    update(row.withVersion(version), now, change, counters);
    logChange(entry.withVersion(version));
    return version;
  }

  /**
   * Up to {@code limit} conversations of the tenants in {@code scope} last updated before {@code updatedBefore},
   * oldest first: what the retention sweep deletes. Where several writers share the storage, the rows are locked for the rest of the
   * transaction, and rows another transaction holds are skipped (so several sweepers never wait for each other).
   */
  List<ConversationRow> idle(Instant updatedBefore, TenantScope scope, int limit) throws X;

  /**
   * Up to {@code limit} conversations of any tenant whose own expire time is {@code now} or earlier, soonest first
   * (by an index on the expire time), locked and skipping rows held elsewhere as {@link #idle} does.
   */
  List<ConversationRow> expired(Instant now, int limit) throws X;

  /** Deletes the conversation with its messages and metadata. */
  void delete(ConversationRow row) throws X;

  /**
   * Adds {@code change} to the change log, in this transaction, so that it is there exactly when the mutation is.
   * Called once per mutation that changed something, after its {@link #nextVersion}; a backend that signals
   * watchers does so only once the transaction has committed. The backend records with the entry the
   * conversation's metadata as it is at this point of the transaction (a Clear logs before it deletes, so its entry
   * holds the metadata the conversation had), which a watcher's metadata filter is matched against.
   */
  void logChange(LoggedChange change) throws X;
}
