package io.vmpilot.conversation.server.store;

import java.util.Objects;

/**
 * Which change-log entries to read: a tenant's (or one of its conversations', when {@code threadId} is not empty)
 * with a version above {@code afterVersion}, oldest first, at most {@code limit}.
 */
public record ChangeQuery(String tenant, String threadId, long afterVersion, int limit) {
  public ChangeQuery {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(threadId, "threadId");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive");
    }
  }

  public boolean wholeTenant() {
    return threadId.isEmpty();
  }

  /** Whether a change of {@code key} is one this query reads. */
  public boolean covers(ThreadKey key) {
    return key.tenant().equals(tenant) && (wholeTenant() || key.threadId().equals(threadId));
  }
}
