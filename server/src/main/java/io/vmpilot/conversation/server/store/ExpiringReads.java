package io.vmpilot.conversation.server.store;

import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * A store whose reads treat a conversation not updated for longer than {@code [retention] max_idle} as absent, on
 * every backend, from the moment it expires: the sweep ({@link RetentionSweeper}) deletes it later, in batches,
 * and until then Get, List, Search and Export must not show it. This is the one place that computes the cutoff;
 * List, Search and Export hand it to the backend's query ({@link ListQuery#updatedSince}, so pages stay full and
 * page tokens stay right), Get checks the summary it read. Writes pass through unchanged: a write to an expired
 * conversation that the sweep has not reached yet finds it (an Append adds to it, which makes it recent again).
 */
public final class ExpiringReads implements ConversationStore {
  private final ConversationStore store;
  private final Retention retention;
  private final Clock clock;

  public ExpiringReads(ConversationStore store, Duration maxIdle, Clock clock) {
    this(store, Retention.maxIdle(maxIdle), clock);
  }

  /** Reads that hide what {@code retention} says has expired by idleness, each tenant by its own max_idle. */
  public ExpiringReads(ConversationStore store, Retention retention, Clock clock) {
    this.store = store;
    this.retention = retention;
    this.clock = clock;
  }

  /** The conversations of {@code tenant} last updated before this instant have expired (EPOCH: none). */
  public Instant cutoff(String tenant) {
    return retention.idleCutoff(tenant, clock.instant()).orElse(Instant.EPOCH);
  }

  @Override
  public Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    Instant cutoff = cutoff(key.tenant());
    return store.get(key, window).filter(c -> !c.summary().updateTime().isBefore(cutoff));
  }

  /** Passed through: a hint, which may count a conversation just hidden by max_idle (the read then finds none). */
  @Override
  public Optional<HistorySize> historySize(ThreadKey key) {
    return store.historySize(key);
  }

  @Override
  public int readConnections() {
    return store.readConnections();
  }

  @Override
  public List<ConversationSummary> list(ListQuery query) {
    return store.list(query.updatedSince(cutoff(query.tenant())));
  }

  @Override
  public List<SearchHit> search(SearchQuery query) {
    return store.search(query.updatedSince(cutoff(query.tenant())));
  }

  @Override
  public List<ConversationSummary> listByThreadId(ExportQuery q) {
    Instant cutoff = cutoff(q.tenant());
    Instant after = q.updatedAfter().filter(t -> t.isAfter(cutoff)).orElse(cutoff);
    return store.listByThreadId(new ExportQuery(q.tenant(), q.afterThreadId(), q.limit(), q.metadataFilter(),
        Optional.of(after), q.updatedBefore(), q.threadIds()));
  }

  @Override
  public List<ThreadKey> sweepIdle(Instant updatedBefore, TenantScope scope, int limit) {
    return store.sweepIdle(updatedBefore, scope, limit);
  }

  @Override
  public List<ThreadKey> sweepExpired(int limit) {
    return store.sweepExpired(limit);
  }

  @Override
  public SaveResult save(SaveCommand command) {
    return store.save(command);
  }

  @Override
  public long updateCache(UpdateCacheCommand command) {
    return store.updateCache(command);
  }

  @Override
  public boolean clear(ClearCommand command) {
    return store.clear(command);
  }

  @Override
  public AppendResult append(AppendCommand command) {
    return store.append(command);
  }

  @Override
  public long updateMetadata(UpdateMetadataCommand command) {
    return store.updateMetadata(command);
  }

  @Override
  public ForkResult fork(ForkCommand command) {
    return store.fork(command);
  }

  @Override
  public CompletableFuture<SaveResult> saveAsync(SaveCommand command) {
    return store.saveAsync(command);
  }

  @Override
  public CompletableFuture<Long> updateCacheAsync(UpdateCacheCommand command) {
    return store.updateCacheAsync(command);
  }

  @Override
  public CompletableFuture<Boolean> clearAsync(ClearCommand command) {
    return store.clearAsync(command);
  }

  @Override
  public CompletableFuture<AppendResult> appendAsync(AppendCommand command) {
    return store.appendAsync(command);
  }

  @Override
  public CompletableFuture<Long> updateMetadataAsync(UpdateMetadataCommand command) {
    return store.updateMetadataAsync(command);
  }

  @Override
  public ChangeFeed changeFeed() {
    return store.changeFeed();
  }

  @Override
  public ImportOutcome importConversation(ImportCommand command) {
    return store.importConversation(command);
  }

  @Override
  public StoreStatus status(String tenant) {
    return store.status(tenant);
  }

  @Override
  public long backup(Path target) {
    return store.backup(target);
  }

  @Override
  public byte[] tokenKey() {
    return store.tokenKey();
  }

  @Override
  public void checkHealth() {
    store.checkHealth();
  }

  @Override
  public StoreStats stats() {
    return store.stats();
  }

  @Override
  public List<DataSource> connectionPools() {
    return store.connectionPools();
  }

  @Override
  public void close() {
    store.close();
  }
}
