package io.vmpilot.conversation.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.v1.WatchResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One Watch stream. The change log is the only source of what it sends: a commit's signal only says "read the log
 * again", so a watcher holds no events of its own (its buffer is gRPC's, and it sends only while the call is ready),
 * and what it sends is exactly the log's entries after the last version sent, in order, never one twice.
 *
 * <p>Signals of changes it has not read yet count as its lag; once they pass {@code maxLagEvents} (the watcher is
 * not reading, or reads more slowly than the tenant writes), it is cut off. Writers only ever increment the count.
 *
 * <p>With a metadata filter, it reads every entry of the tenant and sends those the filter selects
 * ({@link ChangeEvent#selectedBy}); the entries it skips still move its position and count as lag.
 *
 * <p>All sending happens in {@link #run}, of which at most one runs at a time, on the executor.
 */
final class Watcher implements ChangeFeed.ChangeListener {
  static final int PAGE = 100;

  private final ServerCallStreamObserver<WatchResponse> call;
  private final ChangeFeed feed;
  private final ChangeQuery start;
  private final Map<String, String> filter;
  private final Executor executor;
  private final int maxLagEvents;
  private final ErrorMapper errors;
  private final WatchStats stats;
  private final Consumer<Watcher> onEnd;
  private final AtomicInteger lag = new AtomicInteger();
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean pending = new AtomicBoolean();
  private volatile boolean tooSlow;
  private volatile boolean shuttingDown;
  private final AtomicBoolean ended = new AtomicBoolean();
  private ChangeFeed.Subscription subscription;
  /** The version of the last event sent; touched only by {@link #run}. */
  private long position;

  Watcher(ServerCallStreamObserver<WatchResponse> call, ChangeFeed feed, ChangeQuery start,
      Map<String, String> filter, Executor executor, int maxLagEvents, ErrorMapper errors, WatchStats stats,
      Consumer<Watcher> onEnd) {
    this.call = call;
    this.feed = feed;
    this.start = start;
    this.filter = Map.copyOf(filter);
    this.executor = executor;
    this.maxLagEvents = maxLagEvents;
    this.errors = errors;
    this.stats = stats;
    this.onEnd = onEnd;
    this.position = start.afterVersion();
  }

  /**
   * Sets the call's handlers (gRPC takes them only during the service method), then, on the executor (a
   * subscription may query the database: PostgreSQL), subscribes before the first read, so that nothing committed
   * after that read goes unsignalled.
   */
  void start() {
    call.setOnCancelHandler(this::end);
    call.setOnReadyHandler(this::schedule);
    try {
      executor.execute(this::subscribeAndRead);
    } catch (RuntimeException rejected) {
      failWith(rejected);
    }
  }

  private void subscribeAndRead() {
    try {
      ChangeFeed.Subscription s = feed.subscribe(start.tenant(), this);
      synchronized (this) {
        subscription = s;
      }
    } catch (RuntimeException e) {
      failWith(e);
      return;
    }
    if (ended.get()) {
      closeSubscription();
      return;
    }
    schedule();
  }

  private synchronized void closeSubscription() {
    if (subscription != null) {
      subscription.close();
      subscription = null;
    }
  }

  @Override
  public void changed(ThreadKey key) {
    if (ended.get() || !start.covers(key)) {
      return;
    }
    if (lag.incrementAndGet() > maxLagEvents) {
      tooSlow = true;
    }
    schedule();
  }

  /** Ends the stream with UNAVAILABLE (SERVER_SHUTTING_DOWN), from the sending thread. */
  void shutDown() {
    shuttingDown = true;
    schedule();
  }

  private void schedule() {
    pending.set(true);
    if (!ended.get() && running.compareAndSet(false, true)) {
      try {
        executor.execute(this::run);
      } catch (RuntimeException rejected) {
        running.set(false);
        end();
      }
    }
  }

  private void run() {
    do {
      pending.set(false);
      sendWhatIsReady();
      running.set(false);
    } while (pending.get() && !ended.get() && running.compareAndSet(false, true));
  }

  private void sendWhatIsReady() {
    if (ended.get()) {
      return;
    }
    try {
      if (shuttingDown) {
        fail(errors.watchEndedByShutdown(position), WatchStats.CutOff.SERVER_SHUTTING_DOWN);
        return;
      }
      if (tooSlow) {
        fail(errors.watcherTooSlow(maxLagEvents, position), WatchStats.CutOff.WATCHER_TOO_SLOW);
        return;
      }
      while (!ended.get() && call.isReady()) {
        int signalled = lag.get();
        List<ChangeEvent> page = feed.changes(
            new ChangeQuery(start.tenant(), start.threadId(), position, PAGE));
        for (ChangeEvent e : page) {
          if (e.selectedBy(filter)) {
            WatchResponse event = ProtoMapper.change(e);
            call.onNext(e.leaves(filter) ? event.toBuilder().setLeftFilter(true).build() : event);
            stats.sent();
          }
          position = e.version();
        }
        if (page.size() < PAGE) {
          // Caught up with every signal counted before this read; later ones have scheduled another run.
          lag.addAndGet(-signalled);
          return;
        }
      }
    } catch (RuntimeException | Error e) {
      failWith(e);
    }
  }

  private void failWith(Throwable e) {
    fail(errors.toStatus("Watch", start.threadId(), e),
        e instanceof ChangeLogPrunedException ? WatchStats.CutOff.CHANGE_LOG_PRUNED : WatchStats.CutOff.ERROR);
  }

  private void fail(io.grpc.StatusRuntimeException status, WatchStats.CutOff reason) {
    if (end()) {
      stats.cutOffFor(reason);
      call.onError(status);
    }
  }

  /** Ends the watch (once: returns whether this call did). */
  private boolean end() {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    closeSubscription();
    onEnd.accept(this);
    return true;
  }
}
