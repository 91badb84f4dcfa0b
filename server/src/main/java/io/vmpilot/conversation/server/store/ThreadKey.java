package io.vmpilot.conversation.server.store;

import java.util.Objects;

/**
 * Identifies one conversation. The same thread id in two tenants is two conversations; a store never lets an
 * operation on one tenant see or touch another's.
 */
public record ThreadKey(String tenant, String threadId) {
  /** The tenant everything belongs to when authentication is off. */
  public static final String DEFAULT_TENANT = "default";

  public ThreadKey {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(threadId, "threadId");
  }

  public static ThreadKey of(String threadId) {
    return new ThreadKey(DEFAULT_TENANT, threadId);
  }
}
