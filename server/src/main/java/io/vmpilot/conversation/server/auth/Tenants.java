package io.vmpilot.conversation.server.auth;

import io.grpc.Context;
import io.vmpilot.conversation.server.store.ThreadKey;

/**
 * The tenant a call acts for. An authenticating interceptor puts it in the gRPC {@link Context}; without one
 * (authentication off) every call acts for {@link ThreadKey#DEFAULT_TENANT}.
 */
public final class Tenants {
  public static final Context.Key<String> KEY = Context.keyWithDefault("tenant", ThreadKey.DEFAULT_TENANT);

  private Tenants() {}

  public static String current() {
    return KEY.get();
  }
}
