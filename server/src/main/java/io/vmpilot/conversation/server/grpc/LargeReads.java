package io.vmpilot.conversation.server.grpc;

import io.grpc.Context;
import io.grpc.Status;
import io.vmpilot.conversation.server.store.ConversationStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Where reads with a large answer, and large writes, run: a small pool of their own ({@code grpc-large} threads),
 * so that a flood of them never queues the small calls behind it. A Get looks up its conversation's row first (its
 * {@code history_bytes}) and comes here when the history is over {@link InFlightBudget#LARGE_MESSAGE_BYTES}.
 *
 * <p>Why: with one pool, 200 concurrent Gets of a 20 MB conversation filled its queue, and a bystander's Get of one
 * small message waited behind all of them (p99 5-12 s in MemoryFloodIT at full scale), while most of those Gets read
 * 20 MB only to be refused for want of budget.
 *
 * <p>A large read waits here at most {@link InFlightLimiter#RESPONSE_WAIT}, in the queue and then for room in the
 * in-flight budget, <em>before</em> it reads anything; past that (or when {@code maxQueued} already wait) it is
 * refused with RESOURCE_EXHAUSTED, reason {@code IN_FLIGHT_LIMIT}, without having been read. A call cancelled
 * meanwhile (its deadline passed, its client left) is dropped unread. Room is looked at, not taken: the response
 * is counted when it is sent ({@link InFlightLimiter}), and may wait there once more if others took the room.
 *
 * <p>Large calls also leave one of the store's reader connections ({@link ConversationStore#readConnections}) to
 * the small ones: at most one fewer large reads and writes than there are connections are in the store at once,
 * the rest wait here. Why: with SQLite's default of 4 connections, as many as there are {@code grpc-large} threads,
 * four 20 MB Gets held every connection and a small Get's one-row look-up waited for one to finish.
 */
final class LargeReads {
  private final Executor pool;
  private final InFlightLimiter limiter;
  private final int maxQueued;
  private final AtomicInteger queued = new AtomicInteger();
  private final Semaphore inStore;
  private final Executor writes;

  /**
   * @param pool the large calls' threads (the caller owns and shuts it down)
   * @param maxQueued how many large reads may wait at once; more are refused at once
   * @param storeReadConnections the store's reader connections, of which large calls leave one to the others
   */
  LargeReads(Executor pool, InFlightLimiter limiter, int maxQueued, int storeReadConnections) {
    this.pool = Context.currentContextExecutor(pool);
    this.limiter = limiter;
    this.maxQueued = maxQueued;
    this.inStore = new Semaphore(Math.max(1, storeReadConnections - 1));
    this.writes = task -> this.pool.execute(() -> {
      inStore.acquireUninterruptibly();
      try {
        task.run();
      } finally {
        inStore.release();
      }
    });
  }

  /**
   * Where large writes run: on the pool, once they may use the store (a long Save reads its stored history first).
   * They were counted in the budget as they arrived: they do not wait for it here.
   */
  Executor executor() {
    return writes;
  }

  /**
   * Runs {@code read} here and now when {@code historyBytes} is small, else on the pool once its answer is
   * likely to fit.
   */
  <T> CompletableFuture<T> read(String rpc, long historyBytes, Supplier<T> read) {
    if (historyBytes <= InFlightBudget.LARGE_MESSAGE_BYTES) {
      try {
        return CompletableFuture.completedFuture(read.get());
      } catch (RuntimeException | Error e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      limiter.budget().countRefusal();
      return CompletableFuture.failedFuture(limiter.refusedBeforeReading(rpc, historyBytes));
    }
    long waitEnds = System.nanoTime() + InFlightLimiter.RESPONSE_WAIT.toNanos();
    return CompletableFuture.supplyAsync(() -> {
      queued.decrementAndGet();
      if (Context.current().isCancelled()) {
        throw Status.CANCELLED.withDescription("cancelled before it was read").asRuntimeException();
      }
      long left = waitEnds - System.nanoTime();
      boolean room;
      try {
        room = left > 0 ? limiter.budget().awaitRoom(historyBytes, left) : countedRefusal();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        room = countedRefusal();
      }
      if (!room || !enterStore(waitEnds)) {
        throw limiter.refusedBeforeReading(rpc, historyBytes);
      }
      try {
        return read.get();
      } finally {
        inStore.release();
      }
    }, pool);
  }

  /** Waits for the store, in what is left of the read's wait; false (counted as a refusal) once that is over. */
  private boolean enterStore(long waitEnds) {
    try {
      if (inStore.tryAcquire(Math.max(0, waitEnds - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return countedRefusal();
  }

  private boolean countedRefusal() {
    limiter.budget().countRefusal();
    return false;
  }
}
