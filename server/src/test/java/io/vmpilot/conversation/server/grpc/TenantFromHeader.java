package io.vmpilot.conversation.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.vmpilot.conversation.server.auth.Tenants;

/**
 * Stands in for the authenticating interceptor in service tests: the tenant comes from a header; without it, the
 * call has the default tenant.
 */
final class TenantFromHeader implements ServerInterceptor {
  private static final Metadata.Key<String> HEADER = Metadata.Key.of("x-test-tenant", Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String tenant = headers.get(HEADER);
    if (tenant == null) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(Tenants.KEY, tenant), call, headers, next);
  }

  /** {@code stub}, calling as {@code tenant}. */
  static <S extends AbstractStub<S>> S as(S stub, String tenant) {
    Metadata headers = new Metadata();
    headers.put(HEADER, tenant);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }
}
