package io.vmpilot.conversation.server.grpc;

import io.grpc.Detachable;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.internal.SerializingExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Answers a request whose bytes are not a valid protobuf message (garbage, truncation, invalid UTF-8 in a string
 * field) with INVALID_ARGUMENT and the usual ErrorInfo and BadRequest, and a compressed one that is over the size
 * limit once decompressed with RESOURCE_EXHAUSTED (reason {@code REQUEST_TOO_LARGE}).
 *
 * <p>Without this, grpc-java fails such a call with {@code UNKNOWN "Application error processing RPC"}: the
 * request marshaller throws inside the server's own call handling, where any exception becomes UNKNOWN. Here the
 * marshaller never throws; it hands the failure on as a value, and the call is closed with a proper status
 * before the service sees anything.
 *
 * <p>A request over {@link InFlightBudget#LARGE_MESSAGE_BYTES} is not parsed where it arrives: the server runs calls
 * on Netty's event-loop threads (a direct executor), and the parse of a 60 MB Save there (tens of milliseconds of
 * CPU, hundreds on a starved machine) held up every other connection on that thread, small calls included. Its
 * bytes are detached from the transport (no copy) and parsed on the large calls' pool, where the rest of that call's
 * events then run in order. A compressed request's size is not known before it is decompressed, and grpc-java
 * inflates it lazily, as the parse reads it, on the thread the call's events run on; a gzip frame of a few hundred
 * bytes can inflate to the inbound limit. So a call whose request headers name an encoding other than identity runs
 * on the large calls' pool from its start ({@link #compressedCallsOn}), its parse included.
 */
final class UnparseableRequests {
  private UnparseableRequests() {}

  /** A request that could not be parsed, and why. */
  private record Unparseable(RuntimeException cause) {}

  /** A request whose parse ran out of memory. */
  private record NoMemory(OutOfMemoryError error) {}

  /** A large request's bytes, taken over from the transport, still to be parsed off the network thread. */
  private record Unparsed(InputStream bytes) {}

  private static final Metadata.Key<String> MESSAGE_ENCODING =
      Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * For the server builder's {@code callExecutor}: compressed calls on {@code largeParses}, every other call where
   * the server runs it. Decided on the headers alone, as the call starts: the decompressed size is only known once
   * the inflating, the cost to keep off the network threads, is done. Compressed calls are rare and usually large,
   * so sending the small ones there too costs little.
   */
  static ServerCallExecutorSupplier compressedCallsOn(Executor largeParses) {
    return new ServerCallExecutorSupplier() {
      @Override
      public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        String encoding = headers.get(MESSAGE_ENCODING);
        return encoding == null || encoding.equals("identity") ? null : largeParses;
      }
    };
  }

  /** {@code service} with every method's request parsing made failure-safe, every request parsed where it arrives. */
  static ServerServiceDefinition rejectAsInvalidArgument(ServerServiceDefinition service) {
    return rejectAsInvalidArgument(service, null);
  }

  /**
   * {@code service} with every method's request parsing made failure-safe, and requests over
   * {@link InFlightBudget#LARGE_MESSAGE_BYTES} parsed on {@code largeParses} (null: where they arrive).
   */
  static ServerServiceDefinition rejectAsInvalidArgument(ServerServiceDefinition service, Executor largeParses) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> wrapped = wrap(method, largeParses);
      methods.add(wrapped);
      descriptor.addMethod(wrapped.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  private static <ReqT, RespT> ServerMethodDefinition<Object, RespT> wrap(ServerMethodDefinition<ReqT, RespT> def,
      Executor largeParses) {
    MethodDescriptor<ReqT, RespT> method = def.getMethodDescriptor();
    MethodDescriptor.Marshaller<ReqT> strict = method.getRequestMarshaller();
    MethodDescriptor.Marshaller<Object> lenient = new MethodDescriptor.Marshaller<>() {
      @Override
      @SuppressWarnings("unchecked")
      public InputStream stream(Object value) {
        return strict.stream((ReqT) value);
      }

      @Override
      public Object parse(InputStream stream) {
        if (largeParses != null && stream instanceof Detachable detachable && stream instanceof KnownLength
            && available(stream) > InFlightBudget.LARGE_MESSAGE_BYTES) {
          // grpc-java closes the stream it handed over as soon as the listener returns: the detached one owns the
          // buffers until it is parsed and closed.
          return new Unparsed(detachable.detach());
        }
        return parseNow(strict, stream);
      }
    };
    MethodDescriptor<Object, RespT> lenientMethod =
        method.toBuilder(lenient, method.getResponseMarshaller()).build();
    ServerCallHandler<ReqT, RespT> handler = def.getServerCallHandler();
    String rpc = method.getBareMethodName();
    return ServerMethodDefinition.create(lenientMethod,
        (call, headers) -> startCall(rpc, handler, call, headers, strict, largeParses));
  }

  /** The request, or why it could not be parsed; never throws. */
  private static Object parseNow(MethodDescriptor.Marshaller<?> strict, InputStream stream) {
    try {
      return strict.parse(stream);
    } catch (RuntimeException e) {
      return new Unparseable(e);
    } catch (OutOfMemoryError e) {
      return new NoMemory(e);
    }
  }

  private static void closeQuietly(InputStream stream) {
    try {
      stream.close();
    } catch (IOException e) {
      // Nothing to do: the buffers it held are released by close() before it could fail.
    }
  }

  private static int available(InputStream stream) {
    try {
      return stream.available();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * RESOURCE_EXHAUSTED when the request only went over the size limit as it was decompressed (grpc-java reports
   * that from inside the parse, as the stream is read), as it is for the same request sent uncompressed; otherwise
   * INVALID_ARGUMENT.
   */
  static StatusRuntimeException statusFor(String rpc, RuntimeException failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        return ErrorMapper.requestTooLarge(sre.getStatus().getDescription());
      }
    }
    Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
    return new ErrorMapper().toStatus(rpc, "", RequestValidator.invalid("request",
        "is not a valid protobuf message of this method's request type: " + cause.getMessage()));
  }

  @SuppressWarnings("unchecked")
  private static <ReqT, RespT> ServerCall.Listener<Object> startCall(String rpc, ServerCallHandler<ReqT, RespT> handler,
      ServerCall<Object, RespT> call, Metadata headers, MethodDescriptor.Marshaller<ReqT> strict,
      Executor largeParses) {
    // The handler only requests, sends and closes; it never looks at the request marshaller.
    ServerCall.Listener<ReqT> delegate = handler.startCall((ServerCall<ReqT, RespT>) (ServerCall<?, RespT>) call,
        headers);
    ServerCall.Listener<Object> inline = new ServerCall.Listener<>() {
      private boolean rejected;

      @Override
      public void onMessage(Object message) {
        if (rejected || message instanceof Unparsed && io.grpc.Context.current().isCancelled()) {
          // A detached request owns its transport buffers: given back here, unread.
          if (message instanceof Unparsed u) {
            closeQuietly(u.bytes());
          }
          return;
        }
        if (message instanceof Unparsed u) {
          try (InputStream bytes = u.bytes()) {
            message = parseNow(strict, bytes);
          } catch (IOException e) {
            message = new Unparseable(new IllegalStateException(e));
          }
        }
        if (message instanceof Unparseable u) {
          reject(statusFor(rpc, u.cause()));
          return;
        }
        if (message instanceof NoMemory m) {
          reject(new ErrorMapper().toStatus(rpc, "", m.error()));
          return;
        }
        Object request = message;
        guarded(() -> delegate.onMessage((ReqT) request));
      }

      @Override
      public void onHalfClose() {
        if (!rejected) {
          guarded(delegate::onHalfClose);
        }
      }

      @Override
      public void onCancel() {
        delegate.onCancel();
      }

      @Override
      public void onComplete() {
        delegate.onComplete();
      }

      @Override
      public void onReady() {
        if (!rejected) {
          guarded(delegate::onReady);
        }
      }

      /**
       * An OutOfMemoryError thrown while the service takes the call (at a full heap, any allocation may fail) gets
       * RESOURCE_EXHAUSTED with reason OUT_OF_MEMORY; left to grpc-java, it would be UNKNOWN "Application error
       * processing RPC".
       */
      private void guarded(Runnable event) {
        try {
          event.run();
        } catch (OutOfMemoryError e) {
          reject(new ErrorMapper().toStatus(rpc, "", e));
        }
      }

      private void reject(StatusRuntimeException status) {
        rejected = true;
        try {
          call.close(status.getStatus(), status.getTrailers() != null ? status.getTrailers() : new Metadata());
        } catch (IllegalStateException alreadyClosed) {
          // The service had answered before it failed: the client has its answer.
        }
      }
    };
    return largeParses == null ? inline : new MovableListener(inline, largeParses);
  }

  /**
   * Hands events to {@code inline} where they arrive until a large request arrives; from then on every event of
   * the call runs on the large pool, in the order they arrived (a half-close must not overtake the parse).
   */
  private static final class MovableListener extends ServerCall.Listener<Object> {
    private final ServerCall.Listener<Object> inline;
    private final Executor largeParses;
    // Only touched by grpc-java's call thread, which delivers one event at a time.
    private Executor moved;

    MovableListener(ServerCall.Listener<Object> inline, Executor largeParses) {
      this.inline = inline;
      this.largeParses = largeParses;
    }

    private void run(Runnable event) {
      if (moved != null) {
        moved.execute(io.grpc.Context.current().wrap(event));
      } else {
        event.run();
      }
    }

    @Override
    public void onMessage(Object message) {
      if (moved == null && message instanceof Unparsed) {
        moved = new SerializingExecutor(largeParses);
      }
      run(() -> inline.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      run(inline::onHalfClose);
    }

    @Override
    public void onCancel() {
      run(inline::onCancel);
    }

    @Override
    public void onComplete() {
      run(inline::onComplete);
    }

    @Override
    public void onReady() {
      run(inline::onReady);
    }
  }
}
