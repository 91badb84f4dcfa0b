package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.MessageLite;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.server.auth.Tenants;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.ForkResult;
import io.vmpilot.conversation.server.store.HistorySize;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ClearResponse;
import io.vmpilot.conversation.v1.ForkRequest;
import io.vmpilot.conversation.v1.ForkResponse;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import io.vmpilot.conversation.v1.SearchRequest;
import io.vmpilot.conversation.v1.SearchResponse;
import io.vmpilot.conversation.v1.SearchResult;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import io.vmpilot.conversation.v1.UpdateCacheResponse;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import io.vmpilot.conversation.v1.UpdateMetadataResponse;
import java.util.HashMap;
import io.vmpilot.conversation.v1.WatchRequest;
import io.vmpilot.conversation.v1.WatchResponse;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The gRPC face of a {@link ConversationStore}: validates each request, calls the store, and maps the outcome
 * (or the failure) to the wire. Knows nothing of how the store keeps its data.
 *
 * <p>Built to be called on the transport's own threads (a server with a direct executor): a small write is
 * validated and queued right there, since it never waits (the store answers it later from its own thread), which
 * saves a hand-over to another thread per call. What may wait on storage (reads) or take long (a large request to
 * validate) goes to the {@code blockingExecutor}, so that no transport thread, and no connection it serves, is
 * held up by it; Gets of a large history and large writes go on from there to a pool of their own
 * ({@link LargeReads}), so that small reads never queue behind a flood of large ones.
 */
public final class ConversationService extends ConversationServiceGrpc.ConversationServiceImplBase {
  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 1000;
  static final int DEFAULT_SEARCH_PAGE_SIZE = 20;
  static final int MAX_SEARCH_PAGE_SIZE = 100;
  private static final String SEARCH_TOKEN_KEY = "\u0000search";
  /**
   * The largest write (in serialized request bytes) validated and queued on the network thread that received it;
   * larger ones go to the executor. Far below {@link ConversationStore#ASYNC_NEVER_WAITS_UP_TO_BYTES}, so the
   * store never makes a network thread wait.
   */
  static final int NETWORK_THREAD_WRITE_BYTES = 64 * 1024;

  private final ConversationStore store;
  private final RequestValidator validator;
  private final ErrorMapper errors = new ErrorMapper();
  private final Executor blocking;
  private final LargeReads large;
  private final Executor largeWrites;
  private final PageTokens pageTokens;
  private final WatchSettings watchSettings;
  private final Executor watchExecutor;
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
  private final WatchStats watchStats = new WatchStats(watchers::size);

  /**
   * @param blockingExecutor runs reads and large writes (see the class comment); the caller owns and shuts it
   *     down
   */
  public ConversationService(ConversationStore store, RequestLimits limits, Executor blockingExecutor) {
    this(store, limits, blockingExecutor, WatchSettings.DEFAULTS);
  }

  public ConversationService(ConversationStore store, RequestLimits limits, Executor blockingExecutor,
      WatchSettings watch) {
    this(store, limits, blockingExecutor, watch, null);
  }

  /**
   * @param large where Gets of a large history and large writes run ({@link LargeReads}); null to run them on the
   *     {@code blockingExecutor} like the other reads
   */
  ConversationService(ConversationStore store, RequestLimits limits, Executor blockingExecutor, WatchSettings watch,
      LargeReads large) {
    this.large = large;
    this.largeWrites = large != null ? large.executor() : Context.currentContextExecutor(blockingExecutor);
    this.store = store;
    this.watchSettings = watch;
    this.watchExecutor = blockingExecutor;
    this.validator = new RequestValidator(limits);
    this.pageTokens = new PageTokens(store.tokenKey());
    // The request's gRPC context (its tenant, its deadline) goes with the work to the other thread.
    this.blocking = Context.currentContextExecutor(blockingExecutor);
  }

  @Override
  public void save(SaveRequest request, StreamObserver<SaveResponse> response) {
    write("Save", request, request.getThreadId(), response, () -> {
      SaveCommand command = validator.save(request, Tenants.current());
      return store.saveAsync(command).thenApply(r -> SaveResponse.newBuilder()
          .setVersion(r.version())
          .setMessageCount(r.messageCount())
          .setCreated(r.created())
          .setMessagesWritten(r.messagesWritten())
          .build());
    });
  }

  /**
   * Looks up the conversation's row first (its size) on the executor: a Get of a large history is read on the
   * {@link LargeReads} pool, once its answer is likely to fit the in-flight budget, so that small Gets never queue
   * behind large ones.
   */
  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> response) {
    callAsync("Get", request.getThreadId(), response, () -> CompletableFuture.supplyAsync(() -> {
      ThreadKey key = validator.get(request, Tenants.current());
      MessageWindow window = RequestValidator.window(request);
      Supplier<GetResponse> read = () -> store.get(key, window)
          .map(c -> GetResponse.newBuilder().setConversation(ProtoMapper.conversation(c)).build())
          .orElseThrow(() -> new ConversationNotFoundException(key));
      if (large == null) {
        return CompletableFuture.completedFuture(read.get());
      }
      // Absent: the read finds that out (NOT_FOUND) at once.
      long expected = store.historySize(key).map(h -> expectedBytes(h, window)).orElse(0L);
      return large.read("Get", expected, read);
    }, blocking).thenCompose(f -> f));
  }

  /**
   * About how many bytes of history a Get with {@code window} returns: the history's average message size times
   * the messages in the window (so the newest 20 messages of a large conversation are a small read). Only where
   * the read runs depends on it; the response itself is counted in the budget at its true size.
   */
  static long expectedBytes(HistorySize size, MessageWindow window) {
    long count = size.messageCount();
    if (count == 0) {
      return 0;
    }
    long returned = count - window.firstPosition(count);
    return returned == count ? size.historyBytes() : (long) ((double) size.historyBytes() * returned / count);
  }

  @Override
  public void updateCache(UpdateCacheRequest request, StreamObserver<UpdateCacheResponse> response) {
    write("UpdateCache", request, request.getThreadId(), response, () -> {
      return store.updateCacheAsync(validator.updateCache(request, Tenants.current()))
          .thenApply(version -> UpdateCacheResponse.newBuilder().setVersion(version).build());
    });
  }

  @Override
  public void clear(ClearRequest request, StreamObserver<ClearResponse> response) {
    write("Clear", request, request.getThreadId(), response, () -> {
      return store.clearAsync(validator.clear(request, Tenants.current()))
          .thenApply(deleted -> ClearResponse.newBuilder().setDeleted(deleted).build());
    });
  }

  @Override
  public void append(AppendRequest request, StreamObserver<AppendResponse> response) {
    write("Append", request, request.getThreadId(), response, () -> {
      AppendCommand command = validator.append(request, Tenants.current());
      return store.appendAsync(command).thenApply(r -> AppendResponse.newBuilder()
          .setVersion(r.version())
          .setMessageCount(r.messageCount())
          .setAppendedCount(r.appendedCount())
          .setCreated(r.created())
          .build());
    });
  }

  @Override
  public void updateMetadata(UpdateMetadataRequest request, StreamObserver<UpdateMetadataResponse> response) {
    write("UpdateMetadata", request, request.getThreadId(), response, () -> {
      return store.updateMetadataAsync(validator.updateMetadata(request, Tenants.current()))
          .thenApply(version -> UpdateMetadataResponse.newBuilder().setVersion(version).build());
    });
  }

  /** On the executor whatever its size: the copy's cost is the source's history, not the request. */
  @Override
  public void fork(ForkRequest request, StreamObserver<ForkResponse> response) {
    read("Fork", request.getThreadId(), response, () -> {
      ForkResult r = store.fork(validator.fork(request, Tenants.current()));
      return ForkResponse.newBuilder()
          .setVersion(r.version())
          .setMessageCount(r.messageCount())
          .setSourceVersion(r.sourceVersion())
          .build();
    });
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> response) {
    read("List", "", response, () -> {
      validator.list(request);
      String tenant = Tenants.current();
      long before = pageTokens.decode(request.getPageToken(), tenant, request.getMetadataFilterMap());
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : Math.min(request.getPageSize(), MAX_PAGE_SIZE);
      // One more than asked tells whether another page exists without a second query.
      List<ConversationSummary> found =
          store.list(new ListQuery(tenant, pageSize + 1, before, request.getMetadataFilterMap()));
      ListResponse.Builder b = ListResponse.newBuilder();
      found.stream().limit(pageSize).map(ProtoMapper::summary).forEach(b::addConversations);
      if (found.size() > pageSize) {
        b.setNextPageToken(pageTokens.encode(found.get(pageSize - 1).version(), tenant,
            request.getMetadataFilterMap()));
      }
      return b.build();
    });
  }

  /**
   * One page of hits. The page token holds the offset of the next page, bound (by its MAC) to the tenant, the
   * query and the filter; the query goes into the MAC under a key no metadata filter can hold (keys have no
   * control characters), so a List token is never a Search token.
   */
  @Override
  public void search(SearchRequest request, StreamObserver<SearchResponse> response) {
    read("Search", "", response, () -> {
      List<List<String>> phrases = validator.search(request);
      String tenant = Tenants.current();
      Map<String, String> bound = new HashMap<>(request.getMetadataFilterMap());
      bound.put(SEARCH_TOKEN_KEY, request.getQuery());
      long token = pageTokens.decode(request.getPageToken(), tenant, bound);
      long offset = token == Long.MAX_VALUE ? 0 : token;
      int pageSize = request.getPageSize() == 0 ? DEFAULT_SEARCH_PAGE_SIZE
          : Math.min(request.getPageSize(), MAX_SEARCH_PAGE_SIZE);
      List<SearchHit> found = store.search(
          new SearchQuery(tenant, phrases, request.getMetadataFilterMap(), pageSize + 1, offset));
      SearchResponse.Builder b = SearchResponse.newBuilder();
      found.stream().limit(pageSize).forEach(h -> b.addResults(SearchResult.newBuilder()
          .setThreadId(h.threadId())
          .setPosition(h.position())
          .setSnippet(h.snippet())
          .setScore(h.score())));
      if (found.size() > pageSize) {
        b.setNextPageToken(pageTokens.encode(offset + pageSize, tenant, bound));
      }
      return b.build();
    });
  }

  @Override
  public void watch(WatchRequest request, StreamObserver<WatchResponse> response) {
    Watcher watcher;
    try {
      ChangeQuery start = validator.watch(request, Tenants.current(), Watcher.PAGE);
      watcher = new Watcher((ServerCallStreamObserver<WatchResponse>) response, store.changeFeed(), start,
          request.getMetadataFilterMap(), watchExecutor, watchSettings.maxLagEvents(), errors, watchStats,
          watchers::remove);
    } catch (RuntimeException | Error e) {
      response.onError(errors.toStatus("Watch", request.getThreadId(), e));
      return;
    }
    watchers.add(watcher);
    watcher.start();
  }

  /** Ends every Watch stream with UNAVAILABLE, so that a graceful stop need not wait for them. */
  public void shutDownWatchers() {
    for (Watcher w : List.copyOf(watchers)) {
      w.shutDown();
    }
  }

  /** Watch streams open now. */
  public int watcherCount() {
    return watchers.size();
  }

  /** What the metrics endpoint reports of Watch. */
  public WatchStats watchStats() {
    return watchStats;
  }

  private <T> void read(String rpc, String threadId, StreamObserver<T> response, Supplier<T> body) {
    callAsync(rpc, threadId, response, () -> CompletableFuture.supplyAsync(body, blocking));
  }

  private <T> void write(String rpc, MessageLite request, String threadId, StreamObserver<T> response,
      Supplier<CompletableFuture<T>> body) {
    if (request.getSerializedSize() <= NETWORK_THREAD_WRITE_BYTES) {
      callAsync(rpc, threadId, response, body);
    } else {
      callAsync(rpc, threadId, response, () -> CompletableFuture.supplyAsync(body, largeWrites).thenCompose(f -> f));
    }
  }

  /**
   * Answers when {@code body}'s future completes. Writes do not hold a thread while they wait for their group
   * commit: the answer is sent from the thread that completes the future (the store's).
   */
  private <T> void callAsync(String rpc, String threadId, StreamObserver<T> response,
      Supplier<CompletableFuture<T>> body) {
    CompletableFuture<T> pending;
    try {
      pending = body.get();
    } catch (RuntimeException | Error e) {
      // Errors too (an OutOfMemoryError above all): left alone, one would leave the call unanswered, the client
      // hanging until its deadline.
      response.onError(errors.toStatus(rpc, threadId, e));
      return;
    }
    pending.whenComplete((result, failure) -> {
      if (failure != null) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        response.onError(errors.toStatus(rpc, threadId, cause));
      } else {
        response.onNext(result);
        response.onCompleted();
      }
    });
  }
}
