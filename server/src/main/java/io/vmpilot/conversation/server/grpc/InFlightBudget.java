package io.vmpilot.conversation.server.grpc;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget of bytes of large requests and responses in flight ({@code [limits] max_in_flight_bytes}):
 * what bounds the memory big calls take, whatever the number of clients. A request is counted from the moment its
 * message grows past {@link #LARGE_MESSAGE_BYTES} as it arrives, a response when it is handed to the transport; both
 * until their stream is closed (the response written out, or the call cancelled). Smaller messages are not counted:
 * they never wait for big ones and are bounded by the per-connection limits.
 *
 * <p>One holder alone may go over the budget, so that a single request or response as large as the other limits
 * allow is always served when nothing else is in flight.
 */
public final class InFlightBudget {
  /** Messages up to this size are not counted (the size up to which writes stay on the network thread). */
  static final int LARGE_MESSAGE_BYTES = ConversationService.NETWORK_THREAD_WRITE_BYTES;

  private final long capacity;
  private long used;
  private final AtomicLong refusals = new AtomicLong();

  public InFlightBudget(long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("the in-flight budget must be positive, not " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * The default budget: a quarter of the smaller of the heap and the direct memory this JVM may use. A big message
   * lives in both (parsed on the heap, framed in Netty's direct buffers), and the rest is left for everything else.
   */
  public static long defaultCapacity(long maxHeapBytes, long maxDirectBytes) {
    long smaller = maxDirectBytes > 0 ? Math.min(maxHeapBytes, maxDirectBytes) : maxHeapBytes;
    return Math.max(4L << 20, smaller / 4);
  }

  /** {@link #defaultCapacity} for the heap and direct memory of this JVM (as Netty counts the latter). */
  public static long forThisJvm() {
    return defaultCapacity(Runtime.getRuntime().maxMemory(), maxDirectMemory());
  }

  /**
   * The most this JVM can honour: half the smaller of its heap and direct memory. A configured budget above it
   * would let big calls run Netty out of direct memory (calls then fail with CANCELLED or hang), so it is lowered.
   */
  public static long ceilingForThisJvm() {
    return ceiling(Runtime.getRuntime().maxMemory(), maxDirectMemory());
  }

  static long ceiling(long maxHeapBytes, long maxDirectBytes) {
    long smaller = maxDirectBytes > 0 ? Math.min(maxHeapBytes, maxDirectBytes) : maxHeapBytes;
    return Math.max(4L << 20, smaller / 2);
  }

  private static long maxDirectMemory() {
    return io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.maxDirectMemory();
  }

  /**
   * Whether Netty's direct memory, as Netty counts it, lacks room for twice {@code bytes} (a response's buffers
   * and the pool's rounding up). False when Netty does not count (it then lets the JVM's cleaner free buffers).
   */
  static boolean directMemoryShort(long bytes) {
    long used = io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.usedDirectMemory();
    long max = io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.maxDirectMemory();
    return used >= 0 && max > 0 && used + 2 * bytes > max;
  }

  static String directMemoryUse() {
    return io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.usedDirectMemory() + " of "
        + io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.maxDirectMemory() + " bytes in use";
  }

  public long capacity() {
    return capacity;
  }

  /** Bytes counted now. */
  public synchronized long used() {
    return used;
  }

  /** Requests and responses refused so far for want of budget. */
  public long refusals() {
    return refusals.get();
  }

  /**
   * Takes {@code bytes} for a holder that already has {@code alreadyHeld} if they fit, or if nobody else holds
   * anything; else counts a refusal and returns false.
   */
  synchronized boolean tryAcquire(long bytes, long alreadyHeld) {
    if (fits(bytes, alreadyHeld)) {
      used += bytes;
      return true;
    }
    refusals.incrementAndGet();
    return false;
  }

  /** As {@link #tryAcquire}, waiting up to {@code waitNanos} for others to give bytes back. */
  synchronized boolean acquire(long bytes, long alreadyHeld, long waitNanos) throws InterruptedException {
    long end = System.nanoTime() + waitNanos;
    while (!fits(bytes, alreadyHeld)) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        refusals.incrementAndGet();
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    used += bytes;
    return true;
  }

  /**
   * Waits up to {@code waitNanos} until {@code bytes} would fit (as {@link #tryAcquire} judges for a holder with
   * nothing yet), without taking them: a large read looks before it reads, so that it does not build a response
   * that would only be refused. Counts a refusal when they do not fit in time.
   */
  synchronized boolean awaitRoom(long bytes, long waitNanos) throws InterruptedException {
    long end = System.nanoTime() + waitNanos;
    while (!fits(bytes, 0)) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        refusals.incrementAndGet();
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** Counts a refusal decided without asking for bytes (a large read refused before it was read). */
  void countRefusal() {
    refusals.incrementAndGet();
  }

  synchronized void release(long bytes) {
    if (bytes > 0) {
      used -= bytes;
      notifyAll();
    }
  }

  private boolean fits(long bytes, long alreadyHeld) {
    return used + bytes <= capacity || used - alreadyHeld == 0;
  }
}
