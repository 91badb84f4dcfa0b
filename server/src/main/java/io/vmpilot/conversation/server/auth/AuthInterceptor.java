package io.vmpilot.conversation.server.auth;

import com.google.common.collect.Iterables;
import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.api.ErrorDomain;
import io.vmpilot.conversation.server.auth.TenantTokens;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Bearer-token authentication for every call but health checks ({@code grpc.health.v1.Health}, so load
 * balancers and orchestrators can probe without a secret). A call must carry {@code authorization: Bearer
 * <token>}; the token's tenant is put in the {@link Context} under {@link Tenants#KEY}, so everything the call
 * does acts for that tenant only. A call without a usable header fails with {@code UNAUTHENTICATED} and an
 * {@code ErrorInfo} of reason {@code UNAUTHENTICATED}; a call with a token nobody has, with reason
 * {@code INVALID_TOKEN}; a call with more than one {@code authorization} header, with reason
 * {@code UNAUTHENTICATED}, whatever the headers hold. Tokens are never logged.
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "bearer ";
  private static final Logger LOG = Logger.getLogger(AuthInterceptor.class.getName());

  private final TenantTokens tokens;

  public AuthInterceptor(TenantTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    Iterable<String> all = headers.getAll(AUTHORIZATION);
    if (all != null && Iterables.size(all) > 1) {
      // Which one would count is exactly what a proxy adding its own header and a caller adding another disagree on.
      return refuse(call, "UNAUTHENTICATED", "more than one 'authorization' header; send exactly one");
    }
    String header = headers.get(AUTHORIZATION);
    if (header == null || header.length() <= BEARER.length()
        || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return refuse(call, "UNAUTHENTICATED", header == null
          ? "missing 'authorization: Bearer <token>' header"
          : "the 'authorization' header must be 'Bearer <token>'");
    }
    Optional<String> tenant = tokens.tenantOf(header.substring(BEARER.length()).strip());
    if (tenant.isEmpty()) {
      return refuse(call, "INVALID_TOKEN", "the bearer token is not valid");
    }
    Context context = Context.current().withValue(Tenants.KEY, tenant.get());
    return Contexts.interceptCall(context, call, headers, next);
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call, String reason,
      String message) {
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine(call.getMethodDescriptor().getFullMethodName() + " refused (" + reason + ") from "
          + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    }
    StatusRuntimeException e = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.UNAUTHENTICATED.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(ErrorDomain.NAME).build()))
        .build());
    call.close(e.getStatus(), e.getTrailers());
    return new ServerCall.Listener<>() {};
  }
}
