package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.MessageLite;
import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.server.api.ErrorDomain;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Holds every large request and response to the {@link InFlightBudget}. Two halves share one {@link CallBytes}
 * per call through the call's {@link Context}:
 *
 * <ul>
 *   <li>the {@linkplain #tracerFactory() stream tracer} sees a request's bytes as the transport reads them (before
 *       the message is whole, so before any interceptor could), and refuses the call as soon as a message in
 *       progress would go over the budget: the transport then drops what it buffered, instead of running out of
 *       direct memory and resetting the connection with every other call on it;
 *   <li>the {@linkplain #interceptor() interceptor} counts a large response before handing it to the transport,
 *       waiting up to {@link #RESPONSE_WAIT} for room (responses are sent from the service's executor, never from a
 *       network thread, so the wait holds no connection up; and only so many wait at once, the rest are refused
 *       at once), and refuses it otherwise.
 * </ul>
 *
 * <p>A refusal is RESOURCE_EXHAUSTED with reason {@code IN_FLIGHT_LIMIT} (safe to retry later: nothing was done;
 * it says when, in a {@code RetryInfo} detail and the {@code grpc-retry-pushback-ms} trailer), logged (one line
 * per refusal, at most one per second). Bytes go back when the stream closes: a response once it has been written
 * out, so a client that does not read holds its response's bytes until it reads, disconnects, or
 * its connection reaches {@code max_connection_age}.
 */
public final class InFlightLimiter {
  static final Duration RESPONSE_WAIT = Duration.ofSeconds(2);
  static final String REASON = "IN_FLIGHT_LIMIT";
  static final Duration RETRY_DELAY_MIN = Duration.ofMillis(500);
  static final Duration RETRY_DELAY_MAX = Duration.ofMillis(1500);
  private static final Logger LOG = Logger.getLogger(InFlightLimiter.class.getName());
  private static final Context.Key<CallBytes> CALL_BYTES = Context.key("in-flight-bytes");

  private final InFlightBudget budget;
  // Responses wait on the executor's threads; at most this many wait at once, so that a flood of big responses
  // that do not fit leaves the other threads to the reads that do (small ones above all).
  private final Semaphore waiters;
  private long lastLogNanos = Long.MIN_VALUE;
  private long unlogged;

  /** @param maxWaiting how many large responses may wait for room at once; more are refused at once */
  public InFlightLimiter(InFlightBudget budget, int maxWaiting) {
    this.budget = budget;
    this.waiters = new Semaphore(Math.max(1, maxWaiting));
  }

  /** For the network transport: counts requests as they arrive, and gives every call's bytes back at its end. */
  public ServerStreamTracer.Factory tracerFactory() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        CallBytes bytes = new CallBytes();
        return new ServerStreamTracer() {
          @Override
          public Context filterContext(Context context) {
            return context.withValue(CALL_BYTES, bytes);
          }

          @Override
          public void inboundMessage(int seqNo) {
            bytes.newInboundMessage();
          }

          @Override
          public void inboundWireSize(long wireBytes) {
            bytes.received(wireBytes);
          }

          @Override
          public void streamClosed(Status status) {
            bytes.releaseAll();
          }
        };
      }
    };
  }

  /** Counts responses; on a transport without the tracer (in-process), gives the bytes back when the call ends. */
  public ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
          ServerCallHandler<ReqT, RespT> next) {
        CallBytes fromTracer = CALL_BYTES.get();
        CallBytes bytes = fromTracer != null ? fromTracer : new CallBytes();
        LimitedCall<ReqT, RespT> limited = new LimitedCall<>(call, bytes);
        bytes.refuser = limited;
        ServerCall.Listener<ReqT> listener = next.startCall(limited, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
          @Override
          public void onMessage(ReqT message) {
            if (!limited.refused.get()) {
              super.onMessage(message);
            }
          }

          @Override
          public void onHalfClose() {
            if (!limited.refused.get()) {
              super.onHalfClose();
            }
          }

          @Override
          public void onReady() {
            if (!limited.refused.get()) {
              super.onReady();
            }
          }

          @Override
          public void onComplete() {
            bytes.releaseAll();
            super.onComplete();
          }

          @Override
          public void onCancel() {
            bytes.releaseAll();
            super.onCancel();
          }
        };
      }
    };
  }

  /** A call whose large responses wait for the budget, and which can be refused once, from either side. */
  private final class LimitedCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
    private final CallBytes bytes;
    private final AtomicBoolean closed = new AtomicBoolean();
    final AtomicBoolean refused = new AtomicBoolean();

    LimitedCall(ServerCall<ReqT, RespT> call, CallBytes bytes) {
      super(call);
      this.bytes = bytes;
    }

    @Override
    public void sendMessage(RespT message) {
      long size = message instanceof MessageLite m ? m.getSerializedSize() : 0;
      if (size > InFlightBudget.LARGE_MESSAGE_BYTES) {
        boolean admitted;
        try {
          admitted = bytes.acquireResponse(size);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          admitted = false;
        }
        if (!admitted) {
          refuse("response", size);
          return;
        }
        if (InFlightBudget.directMemoryShort(size)) {
          // The budget is set larger than the memory there is (or something else took it). Refused before Netty
          // fails to allocate the response's buffers, which grpc-java would answer with CANCELLED.
          refuseOutOfMemory(size);
          return;
        }
      }
      super.sendMessage(message);
    }

    void refuseOutOfMemory(long size) {
      if (!refused.compareAndSet(false, true)) {
        return;
      }
      String message = "the server's direct memory is nearly exhausted (" + InFlightBudget.directMemoryUse()
          + "): this response of " + size + " bytes does not fit now; retry later, or lower [limits] "
          + "max_in_flight_bytes (" + budget.capacity() + ") below the direct memory";
      logRefusal(getMethodDescriptor().getBareMethodName(), "OUT_OF_MEMORY", message);
      StatusRuntimeException status = ErrorMapper.retryLater(com.google.rpc.Code.RESOURCE_EXHAUSTED, message,
          "OUT_OF_MEMORY", java.util.Map.of("response_bytes", Long.toString(size)), retryDelay());
      close(status.getStatus(), status.getTrailers() != null ? status.getTrailers() : new Metadata());
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (closed.compareAndSet(false, true)) {
        super.close(status, trailers);
      }
    }

    void refuse(String what, long size) {
      if (!refused.compareAndSet(false, true)) {
        return;
      }
      long used = budget.used();
      String message = "the server has " + used + " bytes of large requests and responses in flight (limit "
          + budget.capacity() + "): this " + what + " of " + (what.equals("request") ? "at least " : "") + size
          + " bytes does not fit now; retry later";
      logRefusal(getMethodDescriptor().getBareMethodName(), REASON, message);
      StatusRuntimeException status = ErrorMapper.retryLater(com.google.rpc.Code.RESOURCE_EXHAUSTED, message,
          REASON, java.util.Map.of("limit_bytes", Long.toString(budget.capacity()), "in_flight_bytes",
              Long.toString(used), what + "_bytes", Long.toString(size)), retryDelay());
      close(status.getStatus(), status.getTrailers() != null ? status.getTrailers() : new Metadata());
    }
  }

  /**
   * The refusal of a large read before it was read ({@link LargeReads}): logged like the others, with the size its
   * history has; the caller has counted it (in {@link InFlightBudget#refusals()}).
   */
  StatusRuntimeException refusedBeforeReading(String rpc, long historyBytes) {
    long used = budget.used();
    String message = "the server has " + used + " bytes of large requests and responses in flight (limit "
        + budget.capacity() + "), and more large reads waiting: this response of about " + historyBytes
        + " bytes does not fit now; retry later";
    logRefusal(rpc, REASON, message);
    return ErrorMapper.retryLater(com.google.rpc.Code.RESOURCE_EXHAUSTED, message, REASON, java.util.Map.of(
        "limit_bytes", Long.toString(budget.capacity()), "in_flight_bytes", Long.toString(used),
        "response_bytes", Long.toString(historyBytes)), retryDelay());
  }

  /**
   * How long a refused caller is told to wait ({@link ErrorMapper#retryLater}): between {@link #RETRY_DELAY_MIN}
   * and {@link #RETRY_DELAY_MAX}, at random, so that the callers of one flood, refused together, do not all come
   * back together. Room comes back as the responses in flight are written out, which takes a flood seconds.
   */
  static Duration retryDelay() {
    return Duration.ofMillis(java.util.concurrent.ThreadLocalRandom.current()
        .nextLong(RETRY_DELAY_MIN.toMillis(), RETRY_DELAY_MAX.toMillis() + 1));
  }

  InFlightBudget budget() {
    return budget;
  }

  private void logRefusal(String rpc, String reason, String message) {
    long held;
    synchronized (this) {
      long now = System.nanoTime();
      if (lastLogNanos != Long.MIN_VALUE && now - lastLogNanos < 1_000_000_000L) {
        unlogged++;
        return;
      }
      lastLogNanos = now;
      held = unlogged;
      unlogged = 0;
    }
    LOG.warning(rpc + " refused with RESOURCE_EXHAUSTED (" + reason + "): " + message
        + (held > 0 ? " [" + held + " more refusals in the last second not logged]" : ""));
  }

  /** What one call holds of the budget. */
  private final class CallBytes {
    private long held;
    private long inboundMessageBytes;
    private long inboundCounted;
    private boolean released;
    volatile LimitedCall<?, ?> refuser;

    synchronized void newInboundMessage() {
      inboundMessageBytes = 0;
      inboundCounted = 0;
    }

    void received(long wireBytes) {
      long total;
      synchronized (this) {
        inboundMessageBytes += wireBytes;
        if (released || inboundMessageBytes <= InFlightBudget.LARGE_MESSAGE_BYTES) {
          return;
        }
        LimitedCall<?, ?> call = refuser;
        if (call != null && call.refused.get()) {
          return;
        }
        long more = inboundMessageBytes - inboundCounted;
        if (budget.tryAcquire(more, held)) {
          held += more;
          inboundCounted = inboundMessageBytes;
          return;
        }
        total = inboundMessageBytes;
      }
      LimitedCall<?, ?> call = refuser;
      if (call != null) {
        call.refuse("request", total);
      }
    }

    boolean acquireResponse(long size) throws InterruptedException {
      long alreadyHeld;
      synchronized (this) {
        if (released) {
          return false;
        }
        alreadyHeld = held;
      }
      // Outside this object's lock: the wait must not hold up the transport thread counting this call's bytes.
      boolean admitted;
      if (waiters.tryAcquire()) {
        try {
          admitted = budget.acquire(size, alreadyHeld, RESPONSE_WAIT.toNanos());
        } finally {
          waiters.release();
        }
      } else {
        admitted = budget.tryAcquire(size, alreadyHeld);
      }
      if (!admitted) {
        return false;
      }
      synchronized (this) {
        if (released) {
          budget.release(size);
          return false;
        }
        held += size;
        return true;
      }
    }

    void releaseAll() {
      long giveBack;
      synchronized (this) {
        if (released) {
          return;
        }
        released = true;
        giveBack = held;
        held = 0;
      }
      budget.release(giveBack);
    }
  }
}
