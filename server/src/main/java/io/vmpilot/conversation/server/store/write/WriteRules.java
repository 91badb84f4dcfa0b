package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What Save, Append, UpdateCache and Clear do, once for every backend: version checks, the history and tenant
 * limits, a Save's kept prefix, an Append's de-duplication by id and its replays, and how counters and metadata
 * merge. A backend runs these inside its own transaction over its {@link StorageTransaction}; the rules never
 * commit, and when they throw, the backend undoes the transaction.
 *
 * <p>Times are truncated to microseconds, the precision every backend keeps.
 */
public final class WriteRules {
  private final StoreLimits limits;
  private final Clock clock;

  public WriteRules(StoreLimits limits, Clock clock) {
    this.limits = limits;
    this.clock = clock;
  }

  public StoreLimits limits() {
    return limits;
  }

  /**
   * Replaces the history, writing only what follows the longest prefix already stored unchanged, and merges
   * counters and metadata over the stored ones.
   *
   * @param known the kept prefix found before the transaction, or null; used only if the row is still at its
   *     version, else the stored history is compared here
   */
  public <X extends Exception> SaveResult save(StorageTransaction<X> tx, SaveCommand c, KeptPrefix known) throws X {
    ConversationRow row = tx.find(c.key());
    checkVersion(c.key(), c.expectedVersion(), row);
    long historyBytes = totalBytes(c.messages());
    checkHistorySize(c.key(), historyBytes);
    Instant now = now();
    boolean created = row == null;
    int keep = 0;
    if (created) {
      row = create(tx, c.key(), now);
    } else {
      keep = known != null && known.version() == row.version()
          ? known.keep()
          : commonPrefix(tx.messages(row), c.messages());
      if (keep < row.messageCount()) {
        tx.truncate(row, keep);
      }
    }
    List<NewMessage> tail = c.messages().subList(keep, c.messages().size());
    tx.insert(row, keep, tail, now);
    tx.mergeMetadata(row, c.metadata());
    ConversationRow updated = row.next(tx.nextVersion(c.key().tenant()), c.messages().size(), historyBytes);
    tx.update(updated, now, CountersChange.MERGE, c.cacheInfo());
    return new SaveResult(updated.version(), updated.messageCount(), created, tail.size());
  }

  /**
   * Adds the messages whose ids are not stored yet. A replay (every message carries an id already stored)
   * succeeds without a version check and changes nothing, since the version moved because of the original.
   */
  public <X extends Exception> AppendResult append(StorageTransaction<X> tx, AppendCommand c) throws X {
    ConversationRow row = tx.find(c.key());
    Set<String> storedIds = row == null || !anyId(c.messages()) ? Set.of() : tx.storedIds(row, c.messages());
    if (row != null && isReplay(c.messages(), storedIds)) {
      return new AppendResult(row.version(), row.messageCount(), 0, false);
    }
    checkVersion(c.key(), c.expectedVersion(), row);
    List<NewMessage> fresh = newMessagesOfAppend(c.messages(), storedIds);
    long historyBytes = (row == null ? 0 : row.historyBytes()) + totalBytes(fresh);
    checkHistorySize(c.key(), historyBytes);
    Instant now = now();
    boolean created = row == null;
    if (created) {
      row = create(tx, c.key(), now);
    }
    tx.insert(row, row.messageCount(), fresh, now);
    ConversationRow updated =
        row.next(tx.nextVersion(c.key().tenant()), row.messageCount() + fresh.size(), historyBytes);
    tx.update(updated, now, CountersChange.KEEP, Map.of());
    return new AppendResult(updated.version(), updated.messageCount(), fresh.size(), created);
  }

  /** Replaces the counters of an existing conversation; returns its new version. */
  public <X extends Exception> long updateCache(StorageTransaction<X> tx, UpdateCacheCommand c) throws X {
    ConversationRow row = tx.find(c.key());
    if (row == null) {
      throw new ConversationNotFoundException(c.key());
    }
    checkVersion(c.key(), c.expectedVersion(), row);
    ConversationRow updated = row.next(tx.nextVersion(c.key().tenant()), row.messageCount(), row.historyBytes());
    tx.update(updated, now(), CountersChange.REPLACE, c.cacheInfo());
    return updated.version();
  }

  /**
   * Deletes the conversation; returns whether there was one. A deletion takes a version too (the tenant's counter
   * never goes back), so that the next conversation under the same thread id never has a version the deleted one
   * had, and a client still holding an old version of it gets a mismatch, not a wrong success.
   */
  public <X extends Exception> boolean clear(StorageTransaction<X> tx, ClearCommand c) throws X {
    ConversationRow row = tx.find(c.key());
    checkVersion(c.key(), c.expectedVersion(), row);
    if (row == null) {
      return false;
    }
    tx.delete(row);
    tx.nextVersion(c.key().tenant());
    return true;
  }

  /**
   * The kept prefix of {@code save} over {@code stored} (a read made before the write's transaction), to pass to
   * {@link #save}.
   */
  public static KeptPrefix keptPrefix(Conversation stored, SaveCommand save) {
    return new KeptPrefix(stored.summary().version(), commonPrefix(stored.messages(), save.messages()));
  }

  public static long totalBytes(List<NewMessage> messages) {
    long total = 0;
    for (NewMessage m : messages) {
      total += m.utf8Bytes();
    }
    return total;
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  /** Creates the conversation after checking its tenant's limit, in the same transaction. */
  private <X extends Exception> ConversationRow create(StorageTransaction<X> tx, ThreadKey key, Instant now)
      throws X {
    if (limits.limitsConversations()) {
      long existing = tx.countConversations(key.tenant(), limits.maxConversationsPerTenant());
      if (existing >= limits.maxConversationsPerTenant()) {
        throw new TenantConversationLimitException(key, limits.maxConversationsPerTenant());
      }
    }
    return tx.create(key, now);
  }

  /** Fails when an expected version was given and differs from the current one (0 = does not exist). */
  private static void checkVersion(ThreadKey key, OptionalLong expected, ConversationRow row) {
    long current = row == null ? 0 : row.version();
    if (expected.isPresent() && expected.getAsLong() != current) {
      throw new VersionMismatchException(key, expected.getAsLong(), current);
    }
  }

  private void checkHistorySize(ThreadKey key, long resultingBytes) {
    if (resultingBytes > limits.maxHistoryBytes()) {
      throw new HistoryTooLargeException(key, limits.maxHistoryBytes(), resultingBytes);
    }
  }

  /** How many leading messages of {@code incoming} are already stored, unchanged, at the same positions. */
  private static int commonPrefix(List<StoredMessage> stored, List<NewMessage> incoming) {
    int n = Math.min(stored.size(), incoming.size());
    int i = 0;
    while (i < n && incoming.get(i).sameAs(stored.get(i))) {
      i++;
    }
    return i;
  }

  private static boolean anyId(List<NewMessage> messages) {
    for (NewMessage m : messages) {
      if (m.hasId()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The messages of an append that must be stored: those without an id, and those whose id is neither in
   * {@code storedIds} nor earlier in the request.
   */
  private static List<NewMessage> newMessagesOfAppend(List<NewMessage> incoming, Set<String> storedIds) {
    List<NewMessage> fresh = new ArrayList<>(incoming.size());
    Set<String> seen = new HashSet<>();
    for (NewMessage m : incoming) {
      if (!m.hasId() || (!storedIds.contains(m.id()) && seen.add(m.id()))) {
        fresh.add(m);
      }
    }
    return fresh;
  }

  /** True when every message carries an id that is stored (and there is at least one). */
  private static boolean isReplay(List<NewMessage> incoming, Set<String> storedIds) {
    for (NewMessage m : incoming) {
      if (!m.hasId() || !storedIds.contains(m.id())) {
        return false;
      }
    }
    return !incoming.isEmpty();
  }
}
