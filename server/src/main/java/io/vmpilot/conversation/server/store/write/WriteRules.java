package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.ChangeKind;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ForkResult;
import io.vmpilot.conversation.server.store.ImportOutcome;
import io.vmpilot.conversation.server.store.ImportedMessage;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.command.ExistingPolicy;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.PositionOutOfRangeException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What Save, Append, UpdateCache, Clear, UpdateMetadata, Fork and Import do, once for every backend: version checks,
 * the history and tenant limits, a Save's kept prefix, an Append's de-duplication by id and its replays, how
 * counters and metadata merge, and the change-log entry each mutation leaves (Watch reads them). A backend runs
 * these inside its own transaction over its {@link StorageTransaction}; the rules never
 * commit, and when they throw, the backend undoes the transaction.
 *
 * <p>Times are truncated to microseconds, the precision every backend keeps.
 */
public final class WriteRules {
  /** The metadata key a fork names its source by (the source's thread id). */
  public static final String FORKED_FROM = "forked_from";
  /** The metadata key a fork records the source's version in, as a decimal string. */
  public static final String FORKED_FROM_VERSION = "forked_from_version";

  private final StoreLimits limits;
  private final Retention retention;
  private final Clock clock;

  public WriteRules(StoreLimits limits, Clock clock) {
    this(limits, Retention.NONE, clock);
  }

  /** Rules under which a conversation that has expired by {@code retention} is absent to every write. */
  public WriteRules(StoreLimits limits, Retention retention, Clock clock) {
    this.limits = limits;
    this.retention = retention;
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
    Instant now = now();
    Found found = find(tx, c.key(), now);
    ConversationRow row = found.live();
    checkVersion(c.key(), c.expectedVersion(), row);
    long historyBytes = totalBytes(c.messages());
    checkHistorySize(c.key(), historyBytes);
    boolean created = row == null;
    int keep = 0;
    if (created) {
      row = create(tx, c.key(), found, now);
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
    // Only a Save that sets keys may change the metadata; read before it, for a watcher's filter (LoggedChange).
    Map<String, String> metadataBefore = created || c.metadata().isEmpty() ? null : tx.metadata(row);
    tx.mergeMetadata(row, c.metadata());
    long storedBefore = created ? 0 : row.messageCount();
    ConversationRow updated = row.next(0, c.messages().size(), historyBytes, now)
        .withExpireTime(c.expiry().apply(row.expireTime(), now));
    long version = tx.updateAndLog(updated, now, CountersChange.MERGE, c.cacheInfo(), new LoggedChange(c.key(), 0,
        saveKind(created, keep, storedBefore, tail.size()), keep, updated.messageCount(), tail, now, metadataBefore));
    return new SaveResult(version, updated.messageCount(), created, tail.size());
  }

  /**
   * Adds the messages whose ids are not stored yet and sets the command's counters (the others kept, as in Save).
   * A replay (every message carries an id already stored) succeeds without a version check and changes nothing,
   * counters included, since the version moved because of the original, which set them: counters are set, never
   * added, so the original's values stand as a retried Save would leave them, and a write made after the original
   * is not undone by its late retry.
   */
  public <X extends Exception> AppendResult append(StorageTransaction<X> tx, AppendCommand c) throws X {
    Instant now = now();
    // The row and the stored ids in one read (one round trip where the backend can), the ids only of a live row.
    LocatedRow located = tx.locate(c.key(), anyId(c.messages()) ? c.messages() : List.of());
    Found found = found(located.row(), c.key(), now);
    ConversationRow row = found.live();
    Set<String> storedIds = row == null ? Set.of() : located.storedIds();
    if (row != null && isReplay(c.messages(), storedIds)) {
      return new AppendResult(row.version(), row.messageCount(), 0, false);
    }
    checkVersion(c.key(), c.expectedVersion(), row);
    List<NewMessage> fresh = newMessagesOfAppend(c.messages(), storedIds);
    long historyBytes = (row == null ? 0 : row.historyBytes()) + totalBytes(fresh);
    checkHistorySize(c.key(), historyBytes);
    boolean created = row == null;
    if (created) {
      row = create(tx, c.key(), found, now);
    }
    tx.insert(row, row.messageCount(), fresh, now);
    ConversationRow updated = row.next(0, row.messageCount() + fresh.size(), historyBytes, now)
        .withExpireTime(c.expiry().apply(row.expireTime(), now));
    long version = tx.updateAndLog(updated, now,
        c.cacheInfo().isEmpty() ? CountersChange.KEEP : CountersChange.MERGE, c.cacheInfo(),
        new LoggedChange(c.key(), 0, ChangeKind.APPENDED, row.messageCount(), updated.messageCount(), fresh, now));
    return new AppendResult(version, updated.messageCount(), fresh.size(), created);
  }

  /** Replaces the counters of an existing conversation; returns its new version. */
  public <X extends Exception> long updateCache(StorageTransaction<X> tx, UpdateCacheCommand c) throws X {
    Instant now = now();
    ConversationRow row = existing(tx, c.key(), now);
    checkVersion(c.key(), c.expectedVersion(), row);
    ConversationRow updated = row.next(0, row.messageCount(), row.historyBytes(), now);
    return tx.updateAndLog(updated, now, CountersChange.REPLACE, c.cacheInfo(), new LoggedChange(c.key(), 0,
        ChangeKind.CACHE_UPDATED, row.messageCount(), row.messageCount(), List.of(), now));
  }

  /**
   * Sets and removes metadata keys and cache counters of an existing conversation, leaving its messages alone;
   * returns its new version. Takes a version even when no key changes, so that a caller's expected_version chain
   * stays simple: every acknowledged mutation moves the version.
   */
  public <X extends Exception> long updateMetadata(StorageTransaction<X> tx, UpdateMetadataCommand c) throws X {
    Instant now = now();
    ConversationRow row = existing(tx, c.key(), now);
    checkVersion(c.key(), c.expectedVersion(), row);
    Map<String, String> metadataBefore = tx.metadata(row);
    if (!c.remove().isEmpty() || !c.cacheRemove().isEmpty()) {
      tx.removeEntries(row, c.remove(), c.cacheRemove());
    }
    tx.mergeMetadata(row, c.set());
    ConversationRow updated = row.next(0, row.messageCount(), row.historyBytes(), now)
        .withExpireTime(c.expiry().apply(row.expireTime(), now));
    return tx.updateAndLog(updated, now, c.cacheSet().isEmpty() ? CountersChange.KEEP : CountersChange.MERGE,
        c.cacheSet(), new LoggedChange(c.key(), 0, ChangeKind.METADATA_UPDATED, row.messageCount(),
            row.messageCount(), List.of(), now, metadataBefore));
  }

  /**
   * Creates {@code target} holding the source's messages before the end position and its metadata, plus
   * {@link #FORKED_FROM} and {@link #FORKED_FROM_VERSION}; cache counters are not copied (they describe the
   * source's whole history). The new conversation counts against the tenant's limit like any other.
   */
  public <X extends Exception> ForkResult fork(StorageTransaction<X> tx, ForkCommand c) throws X {
    Instant now = now();
    ConversationRow source = existing(tx, c.source(), now);
    checkVersion(c.source(), c.expectedVersion(), source);
    long end = c.endPosition().orElse(source.messageCount());
    if (end > source.messageCount()) {
      throw new PositionOutOfRangeException(c.source(), end, source.messageCount());
    }
    Found existingTarget = find(tx, c.target(), now);
    if (existingTarget.live() != null) {
      throw new ConversationExistsException(c.target(), "a fork never overwrites a conversation");
    }
    ConversationRow target = create(tx, c.target(), existingTarget, now);
    long bytes = tx.copy(source, target, end);
    tx.mergeMetadata(target, Map.of(
        FORKED_FROM, c.source().threadId(),
        FORKED_FROM_VERSION, Long.toString(source.version())));
    long version = tx.updateAndLog(target.next(0, end, bytes, now), now, CountersChange.KEEP, Map.of(),
        new LoggedChange(c.target(), 0, ChangeKind.REWRITTEN, 0, end, List.of(), now));
    return new ForkResult(version, end, source.version());
  }

  /**
   * Deletes the conversation; returns whether there was one. A deletion takes a version too (the tenant's counter
   * never goes back), so that the next conversation under the same thread id never has a version the deleted one
   * had, and a client still holding an old version of it gets a mismatch, not a wrong success.
   */
  public <X extends Exception> boolean clear(StorageTransaction<X> tx, ClearCommand c) throws X {
    Instant now = now();
    Found found = find(tx, c.key(), now);
    ConversationRow row = found.live();
    checkVersion(c.key(), c.expectedVersion(), row);
    if (row == null) {
      // An expired one is absent to the caller, but gone now rather than at the next sweep.
      retire(tx, found.stale(), now);
      return false;
    }
    retire(tx, row, now);
    return true;
  }

  /**
   * The retention sweep's step: deletes up to {@code limit} conversations of the tenants in {@code scope} last
   * updated before {@code updatedBefore}, each as a Clear would (a new version of its tenant, a CLEARED change-log entry, so watchers see it go); returns
   * their keys. The tenants' counters are taken in tenant order, so that two sweepers sharing a database never wait
   * for each other's counters in a cycle.
   */
  public <X extends Exception> List<ThreadKey> sweepIdle(StorageTransaction<X> tx, Instant updatedBefore,
      TenantScope scope, int limit) throws X {
    List<ConversationRow> rows = tx.idle(updatedBefore, scope, limit);
    return retireAll(tx, rows);
  }

  /**
   * The sweep's step for conversations past their own expire time: deletes up to {@code limit} of them, as
   * {@link #sweepIdle} does; returns their keys.
   */
  public <X extends Exception> List<ThreadKey> sweepExpired(StorageTransaction<X> tx, int limit) throws X {
    return retireAll(tx, tx.expired(now(), limit));
  }

  private <X extends Exception> List<ThreadKey> retireAll(StorageTransaction<X> tx, List<ConversationRow> found)
      throws X {
    List<ConversationRow> rows = new ArrayList<>(found);
    rows.sort(Comparator.comparing((ConversationRow r) -> r.key().tenant())
        .thenComparing(r -> r.key().threadId()));
    List<ThreadKey> deleted = new ArrayList<>(rows.size());
    Instant now = now();
    for (ConversationRow row : rows) {
      retire(tx, row, now);
      deleted.add(row.key());
    }
    return deleted;
  }

  /**
   * Deletes the row as a Clear does (a new version of its tenant, a CLEARED change-log entry, so watchers see it
   * go); does nothing for null.
   */
  private static <X extends Exception> void retire(StorageTransaction<X> tx, ConversationRow row, Instant now)
      throws X {
    if (row == null) {
      return;
    }
    long version = tx.nextVersion(row.key().tenant());
    // Logged before the delete, so that the entry records the metadata the conversation had (a watcher's filter).
    tx.logChange(new LoggedChange(row.key(), version, ChangeKind.CLEARED, row.messageCount(), 0, List.of(), now));
    tx.delete(row);
  }

  /**
   * The row of a key as a write sees it: {@code live} when there is one that has not expired, else null, with an
   * expired row the sweep has not deleted yet in {@code stale} (a write that creates the conversation deletes it
   * first, in the same transaction).
   */
  private record Found(ConversationRow live, ConversationRow stale) {}

  private <X extends Exception> Found find(StorageTransaction<X> tx, ThreadKey key, Instant now) throws X {
    return found(tx.find(key), key, now);
  }

  private Found found(ConversationRow row, ThreadKey key, Instant now) {
    if (row != null && retention.expired(key.tenant(), row.updateTime(), row.expireTime(), now)) {
      return new Found(null, row);
    }
    return new Found(row, null);
  }

  /** The row of a conversation that must exist (and not have expired) for the mutation. */
  private <X extends Exception> ConversationRow existing(StorageTransaction<X> tx, ThreadKey key, Instant now)
      throws X {
    ConversationRow row = find(tx, key, now).live();
    if (row == null) {
      throw new ConversationNotFoundException(key);
    }
    return row;
  }

  /**
   * Stores a conversation as a dump holds it, with its own times. A stored conversation identical to the record
   * (same messages with ids and text, in order, same counters, metadata and expire time; the other times are not
   * compared) is left
   * alone, which makes importing a dump twice a no-op. A different one is refused, kept or replaced, as the
   * command's policy says; a replacement deletes it and creates the record's in the same transaction. A record
   * whose own expire time has passed is not stored (it would be gone for every reader at once) and a stored
   * conversation is left as it is, whatever the policy: the record says nothing about a live conversation.
   */
  public <X extends Exception> ImportOutcome importConversation(StorageTransaction<X> tx, ImportCommand c) throws X {
    if (c.expireTime() != null && !c.expireTime().isAfter(now())) {
      return ImportOutcome.EXPIRED;
    }
    Found found = find(tx, c.key(), now());
    ConversationRow row = found.live();
    boolean replacing = false;
    if (row != null) {
      if (identical(tx, row, c)) {
        return ImportOutcome.UNCHANGED;
      }
      if (c.onExisting() == ExistingPolicy.SKIP) {
        return ImportOutcome.KEPT_EXISTING;
      }
      if (c.onExisting() == ExistingPolicy.FAIL) {
        throw new ConversationExistsException(c.key(), "it differs from the record, and the policy is fail");
      }
      replacing = true;
    }
    List<NewMessage> messages = new ArrayList<>(c.messages().size());
    for (ImportedMessage m : c.messages()) {
      messages.add(m.message());
    }
    long historyBytes = totalBytes(messages);
    checkHistorySize(c.key(), historyBytes);
    Map<String, String> metadataBefore = replacing ? tx.metadata(row) : null;
    if (replacing) {
      tx.delete(row);
    }
    row = create(tx, c.key(), found, c.createTime());
    // Messages stored together share a create time: one insert per run of equal times.
    int start = 0;
    for (int i = 1; i <= messages.size(); i++) {
      if (i == messages.size() || !c.messages().get(i).createTime().equals(c.messages().get(start).createTime())) {
        tx.insert(row, start, messages.subList(start, i), c.messages().get(start).createTime());
        start = i;
      }
    }
    tx.mergeMetadata(row, c.metadata());
    ConversationRow updated = row.next(0, messages.size(), historyBytes, c.updateTime())
        .withExpireTime(c.expireTime());
    // The entry's time is the commit's, not the record's update time: a watcher orders by when it happened here.
    tx.updateAndLog(updated, c.updateTime(), CountersChange.REPLACE, c.cacheInfo(), new LoggedChange(c.key(), 0,
        ChangeKind.REWRITTEN, 0, messages.size(), List.of(), now(), metadataBefore));
    return replacing ? ImportOutcome.REPLACED : ImportOutcome.CREATED;
  }

  private static <X extends Exception> boolean identical(StorageTransaction<X> tx, ConversationRow row,
      ImportCommand c) throws X {
    if (row.messageCount() != c.messages().size()
        || !java.util.Objects.equals(row.expireTime(), c.expireTime())
        || !tx.counters(row).equals(c.cacheInfo())
        || !tx.metadata(row).equals(c.metadata())) {
      return false;
    }
    List<StoredMessage> stored = tx.messages(row);
    for (int i = 0; i < stored.size(); i++) {
      if (!c.messages().get(i).message().sameAs(stored.get(i))) {
        return false;
      }
    }
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

  /**
   * What a Save did to the history: created or extended it (APPENDED, even with no message), rewrote part of it
   * (REPLACED), or left every message as it was (METADATA_UPDATED: only counters and metadata may have changed).
   */
  private static ChangeKind saveKind(boolean created, int keep, long storedBefore, int written) {
    if (keep < storedBefore) {
      return ChangeKind.REPLACED;
    }
    return created || written > 0 ? ChangeKind.APPENDED : ChangeKind.METADATA_UPDATED;
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  /**
   * Creates the conversation after deleting the expired row it replaces (if any) and checking its tenant's limit,
   * in the same transaction.
   */
  private <X extends Exception> ConversationRow create(StorageTransaction<X> tx, ThreadKey key, Found found,
      Instant now) throws X {
    retire(tx, found.stale(), now());
    return create(tx, key, now);
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
