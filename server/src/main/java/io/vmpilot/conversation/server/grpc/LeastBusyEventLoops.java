package io.vmpilot.conversation.server.grpc;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Event loops that give each new connection the loop with the fewest open connections (the next one in turn among
 * equals), where Netty's own group hands them out in turn whatever has closed since.
 *
 * <p>Why: a loop serves each of its connections in turn, so a connection that shares its loop with one moving 20 MB
 * responses waits while those are framed and written. In turn, that happens as soon as connections come and go: a
 * client's long-lived connection and a flood's reconnecting ones met on one loop every second round of the flood,
 * though there were fewer open connections than loops. Counting open connections keeps every connection on a loop
 * of its own while there are no more of them than loops.
 */
final class LeastBusyEventLoops extends MultiThreadIoEventLoopGroup {
  private final List<EventLoop> loops = new ArrayList<>();
  /** Open channels per loop, by the loop's index in {@link #loops}. */
  private final AtomicIntegerArray open;
  private int nextAmongEquals;

  LeastBusyEventLoops(int threads, ThreadFactory threadFactory, IoHandlerFactory io) {
    super(threads, threadFactory, io);
    for (EventExecutor e : this) {
      loops.add((EventLoop) e);
    }
    open = new AtomicIntegerArray(loops.size());
  }

  @Override
  public ChannelFuture register(Channel channel) {
    return leastBusy(channel).register(channel);
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    return leastBusy(promise.channel()).register(promise);
  }

  /** Open connections per loop, in the loops' order (for tests). */
  int[] openPerLoop() {
    int[] counts = new int[open.length()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = open.get(i);
    }
    return counts;
  }

  /**
   * The loop with the fewest open channels, counted for {@code channel} until it closes. Synchronized: accepts come
   * from one thread, but nothing here should depend on that.
   */
  private synchronized EventLoop leastBusy(Channel channel) {
    int n = loops.size();
    int best = nextAmongEquals;
    for (int i = 1; i < n; i++) {
      int candidate = (nextAmongEquals + i) % n;
      if (open.get(candidate) < open.get(best)) {
        best = candidate;
      }
    }
    nextAmongEquals = (best + 1) % n;
    open.incrementAndGet(best);
    int chosen = best;
    channel.closeFuture().addListener(f -> open.decrementAndGet(chosen));
    return loops.get(best);
  }
}
