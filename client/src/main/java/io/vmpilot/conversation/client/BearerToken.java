package io.vmpilot.conversation.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Call credentials that send {@code authorization: Bearer <token>} with every call, as a server with
 * authentication on ({@code [auth] enabled = true}) requires. {@link ConversationClient.Builder#bearerToken}
 * uses it; for the generated stubs, {@code stub.withCallCredentials(new BearerToken(token))}. The token is
 * never part of {@link #toString()}.
 */
public final class BearerToken extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String header;

  public BearerToken(String token) {
    Objects.requireNonNull(token, "token");
    if (token.isBlank()) {
      throw new IllegalArgumentException("the bearer token is empty");
    }
    this.header = "Bearer " + token;
  }

  @Override
  public void applyRequestMetadata(RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    try {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, header);
      applier.apply(headers);
    } catch (RuntimeException e) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("cannot attach the bearer token").withCause(e));
    }
  }

  @Override
  public String toString() {
    return "BearerToken[***]";
  }
}
