package io.vmpilot.conversation.server.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers a request whose bytes are not a valid protobuf message (garbage, truncation, invalid UTF-8 in a string
 * field) with INVALID_ARGUMENT and the usual ErrorInfo and BadRequest, and a compressed one that is over the size
 * limit once decompressed with RESOURCE_EXHAUSTED (reason {@code REQUEST_TOO_LARGE}).
 *
 * <p>Without this, grpc-java fails such a call with {@code UNKNOWN "Application error processing RPC"}: the
 * request marshaller throws inside the server's own call handling, where any exception becomes UNKNOWN. Here the
 * marshaller never throws; it hands the failure on as a value, and the call is closed with a proper status
 * before the service sees anything.
 */
final class UnparseableRequests {
  private UnparseableRequests() {}

  /** A request that could not be parsed, and why. */
  private record Unparseable(RuntimeException cause) {}

  /** {@code service} with every method's request parsing made failure-safe. */
  static ServerServiceDefinition rejectAsInvalidArgument(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> wrapped = wrap(method);
      methods.add(wrapped);
      descriptor.addMethod(wrapped.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  private static <ReqT, RespT> ServerMethodDefinition<Object, RespT> wrap(ServerMethodDefinition<ReqT, RespT> def) {
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
        try {
          return strict.parse(stream);
        } catch (RuntimeException e) {
          return new Unparseable(e);
        }
      }
    };
    MethodDescriptor<Object, RespT> lenientMethod =
        method.toBuilder(lenient, method.getResponseMarshaller()).build();
    ServerCallHandler<ReqT, RespT> handler = def.getServerCallHandler();
    String rpc = method.getBareMethodName();
    return ServerMethodDefinition.create(lenientMethod, (call, headers) -> startCall(rpc, handler, call, headers));
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
      ServerCall<Object, RespT> call, Metadata headers) {
    // The handler only requests, sends and closes; it never looks at the request marshaller.
    ServerCall.Listener<ReqT> delegate = handler.startCall((ServerCall<ReqT, RespT>) (ServerCall<?, RespT>) call,
        headers);
    return new ServerCall.Listener<>() {
      private boolean rejected;

      @Override
      public void onMessage(Object message) {
        if (rejected) {
          return;
        }
        if (message instanceof Unparseable u) {
          rejected = true;
          StatusRuntimeException status = statusFor(rpc, u.cause());
          call.close(status.getStatus(), status.getTrailers() != null ? status.getTrailers() : new Metadata());
          return;
        }
        delegate.onMessage((ReqT) message);
      }

      @Override
      public void onHalfClose() {
        if (!rejected) {
          delegate.onHalfClose();
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
          delegate.onReady();
        }
      }
    };
  }
}
